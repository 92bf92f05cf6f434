/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Device access rules (linux.resources.devices) and the cgroup v2 device controller: an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup.
 *
 * DeviceRule is driver-independent: the v1 driver writes the same list to devices.allow and
 * devices.deny. The rules mean what they mean to cgroup v1 (and to runc on either version):
 *
 *   - The list starts from "deny everything". A rule of type 'a' resets the whole state to
 *     allow-all or deny-all and drops every earlier rule; its numbers and access are ignored.
 *   - A 'b' or 'c' rule whose verdict differs from the current default adds an exception; one
 *     whose verdict equals the default takes access bits away from the exception with exactly
 *     the same type and numbers. So later rules win.
 *   - A rule cannot take access away from part of a wider wildcard exception ("allow c *:* rwm"
 *     then "deny c 1:3 rw"): v1 would silently ignore it, so building the program fails with
 *     -EINVAL instead of leaving the user believing the device is blocked.
 *   - One access (an open for reading and writing is one access of "rw") is judged as a whole,
 *     as v1 judges it: an allow exception must grant every bit it asks for, and a deny exception
 *     catches it when it asks for any of the denied bits. runc's program checks both kinds the
 *     first way, so there "allow all, deny c 1:3 w" lets an open of 1:3 for "rw" through.
 *
 * The runtime's rule list is the config's rules followed by device_rules_default, as runc
 * builds it: put the defaults first and the leading "deny all" rule of a typical config would
 * erase them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

struct bpf_insn;
struct json_object;

#define DEVICE_NUMBER_ANY ((int64_t)-1)

/* The name our programs carry in the kernel (bpftool prog show), which tells them from others'. */
#define DEVICES_BPF_PROG_NAME "berth_devices"

typedef struct DeviceRule {
        bool allow;
        char type;            /* 'a' (all), 'c' (char) or 'b' (block) */
        int64_t major, minor; /* 0..UINT32_MAX, or DEVICE_NUMBER_ANY */
        char access[4];       /* a non-empty subset of "rwm", NUL-terminated */
} DeviceRule;

/* Room for "c 4294967295:4294967295 rwm" and its NUL. */
#define DEVICE_RULE_STRING_MAX 32

/**
 * device_rule_format() - the rule in the devices.list syntax, without its verdict:
 * "c 1:3 rwm", "b 8:* r", "a *:* rwm" (what v1's devices.allow and devices.deny take).
 * Returns @buf.
 */
const char *device_rule_format(const DeviceRule *rule, char buf[static DEVICE_RULE_STRING_MAX]);

/**
 * device_rules_default - what every container may use, runc's specconv.AllowedDevices in its
 * order: mknod of any char and block device; /dev/null, random, full, tty, zero, urandom; the
 * pty slaves (136:*) and /dev/pts/ptmx (5:2); /dev/net/tun (10:200). /dev/console (5:1) is not
 * listed: the container's console is a pty slave bind-mounted there, covered by 136:*.
 * The runtime appends these after the config's rules.
 */
extern const DeviceRule device_rules_default[];
extern const size_t device_rules_default_count;

/**
 * device_rules_from_json() - convert an OCI linux.resources.devices array into rules, in order.
 * Each entry is an object with "allow" (boolean, absent means false), "type" ("a", "b" or "c";
 * absent means "a"), "major" and "minor" (integers from -1 to 4294967295; absent, null or -1
 * mean any) and "access" (required: any combination of r, w and m). Other members are ignored.
 * @arr may be NULL (no rules: *@ret = NULL, *@ret_n = 0). The caller frees *@ret.
 * Returns -EINVAL with @err set to a message that names the field, such as
 * "linux.resources.devices[2].access: must be a combination of r, w, m"; -ENOMEM.
 */
int device_rules_from_json(struct json_object *arr, DeviceRule **ret, size_t *ret_n, BerthError *err);

/**
 * device_rules_from_json_at() - the same, with @field the array's path in messages
 * ("resources.devices" for `update --resources`).
 */
int device_rules_from_json_at(struct json_object *arr, const char *field, DeviceRule **ret, size_t *ret_n,
                              BerthError *err);

/**
 * device_rules_check() - refuse what devices_bpf_program_build() refuses (an invalid rule, a hole
 * punched in a wildcard), without building anything: the v1 driver calls it before writing
 * devices.allow and devices.deny, so that both drivers accept the same lists. Returns -EINVAL
 * with @err set, or -ENOMEM.
 */
int device_rules_check(const DeviceRule *rules, size_t n, BerthError *err);

/**
 * devices_bpf_program_build() - the BPF_PROG_TYPE_CGROUP_DEVICE program that enforces @rules
 * (see the top of this file). It returns 1 (allow) or 0 (deny) for each access. The caller
 * frees *@ret_insns. Returns -EINVAL for an invalid rule or a rule that would punch a hole in a
 * wildcard ("device rule 3 (deny c 1:3 rw): cannot punch a hole in the wildcard rule
 * allow c *:* rwm"); -ENOMEM.
 */
int devices_bpf_program_build(const DeviceRule *rules, size_t n, struct bpf_insn **ret_insns,
                              size_t *ret_count, BerthError *err);

/**
 * devices_bpf_apply() - load the program for @rules and attach it to the cgroup directory
 * @cgroup_dir_fd (BPF_F_ALLOW_MULTI), replacing the program an earlier call attached, so that
 * `update` replaces the filter instead of stacking another one. There is no moment without a
 * filter: one earlier program is swapped atomically (BPF_F_REPLACE); otherwise the new program
 * is attached before the old ones are detached, and for that moment an access must pass both.
 * Programs that others attached (told apart by the program name) are left alone.
 * Needs CAP_SYS_ADMIN and a cgroup v2 directory. Returns -errno with @err set: -EINVAL from the
 * rules, and the bpf() errors (-EPERM without privileges, -EBADF or -EINVAL for a directory that
 * is not a cgroup v2 one).
 */
int devices_bpf_apply(int cgroup_dir_fd, const DeviceRule *rules, size_t n, BerthError *err);
