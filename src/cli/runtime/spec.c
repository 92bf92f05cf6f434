/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* spec (a safe default config.json, as runc's) and features (what berth supports). */

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "runtime/seccomp.h"
#include "verbs.h"

static const char spec_head[] =
        "{\n"
        "  \"ociVersion\": \"1.2.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
        "    \"args\": [\"sh\"],\n"
        "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", "
        "\"TERM=xterm\"],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
        "    },\n"
        "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
        "  \"hostname\": \"berth\",\n"
        "  \"mounts\": [\n"
        "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "     \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},\n"
        "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
        "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
        "    {\"destination\": \"/sys\", \"type\": \"%s\", \"source\": \"%s\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"%s]},\n"
        "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
        "  ],\n"
        "  \"linux\": {\n";

static const char spec_tail[] =
        "    \"namespaces\": [\n"
        "      {\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
        "      {\"type\": \"mount\"}, {\"type\": \"cgroup\"}%s\n"
        "    ],\n"
        "    \"maskedPaths\": [\n"
        "      \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
        "      \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
        "      \"/proc/scsi\", \"/sys/devices/virtual/powercap\"\n"
        "    ],\n"
        "    \"readonlyPaths\": [\n"
        "      \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
        "    ]\n"
        "  }\n"
        "}\n";

static char *spec_render(bool rootless)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, spec_head, rootless ? "" : ", \"gid=5\"", rootless ? "none" : "sysfs",
                      rootless ? "/sys" : "sysfs", rootless ? ", \"rbind\"" : "");
        if (rootless)
                strbuf_printf(&b,
                              "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
                              "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n",
                              (unsigned)geteuid(), (unsigned)getegid());
        else
                strbuf_puts(
                        &b,
                        "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n");
        strbuf_printf(&b, spec_tail, rootless ? ", {\"type\": \"user\"}" : "");
        return strbuf_steal(&b);
}

int verb_spec(int argc, char **argv, const GlobalOptions *g)
{
        enum { ARG_ROOTLESS = 0x100 };
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"rootless", no_argument, NULL, ARG_ROOTLESS},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *bundle = ".";
        bool rootless = false;
        int c;

        while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        bundle = optarg;
                        break;
                case ARG_ROOTLESS:
                        rootless = true;
                        break;
                case 'h':
                        printf("Usage: berth-runtime spec [--bundle DIR] [--rootless]\n\n"
                               "Write a config.json with safe defaults into the bundle directory.\n");
                        return 0;
                default:
                        return verb_usage_error("spec", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return verb_usage_error("spec", "unexpected argument \"%s\"", argv[optind]);

        _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return verb_fail("spec", NULL, "cannot open the bundle directory");
        struct stat st;
        if (fstatat(dfd, "config.json", &st, 0) == 0) {
                char msg[600];
                snprintf(msg, sizeof(msg), "\"%s/config.json\" already exists: remove it first", bundle);
                return verb_fail("spec", NULL, msg);
        }
        _cleanup_free_ char *text = spec_render(rootless);
        if (!text)
                return verb_fail("spec", NULL, "out of memory");
        int r = write_file_atomic_at(dfd, "config.json", text, strlen(text), 0644, WRITE_FILE_SYNC);
        if (r < 0) {
                char msg[600];
                snprintf(msg, sizeof(msg), "write \"%s/config.json\": %s", bundle, strerror(-r));
                return verb_fail("spec", NULL, msg);
        }
        return 0;
}

int verb_features(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: berth-runtime features\n\nPrint the features of this runtime as JSON.\n");
                return 0;
        }
        strbuf_puts(
                &b,
                "{\n"
                "  \"ociVersionMin\": \"1.0.0\",\n"
                "  \"ociVersionMax\": \"1.2.0\",\n"
                "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", "
                "\"poststart\", \"poststop\"],\n"
                "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"defaults\", \"dev\", \"diratime\", "
                "\"dirsync\", \"exec\", \"mand\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", "
                "\"nomand\", \"norelatime\", \"nostrictatime\", \"nosuid\", \"private\", \"rbind\", "
                "\"relatime\", \"remount\", \"ro\", \"rprivate\", \"rshared\", \"rslave\", \"runbindable\", "
                "\"rw\", \"shared\", \"slave\", \"strictatime\", \"suid\", \"sync\", \"unbindable\", "
                "\"rro\", \"rrw\", \"rnosuid\", \"rsuid\", \"rnodev\", \"rdev\", \"rnoexec\", \"rexec\", "
                "\"rnoatime\", \"ratime\", \"rrelatime\", \"rnorelatime\", \"rstrictatime\", "
                "\"rnostrictatime\", \"rnodiratime\", \"rdiratime\"],\n"
                "  \"linux\": {\n"
                "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"time\", "
                "\"user\", "
                "\"uts\"],\n"
                "    \"capabilities\": [");
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
                char *name = cap_to_name(cap);
                if (!name)
                        continue;
                for (char *s = name; *s; s++)
                        *s = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
                strbuf_printf(&b, "%s\"%s\"", cap ? ", " : "", name);
                cap_free(name);
        }
        strbuf_puts(
                &b,
                "],\n"
                "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false},\n"
                "    \"seccomp\": ");
        seccomp_features_write(&b);
        strbuf_puts(&b, ",\n"
                        "    \"apparmor\": {\"enabled\": false},\n"
                        "    \"selinux\": {\"enabled\": false},\n"
                        "    \"mountExtensions\": {\"idmap\": {\"enabled\": false}}\n"
                        "  },\n"
                        "  \"annotations\": {\"org.opencontainers.runc.checkpoint.enabled\": \"false\"}\n"
                        "}\n");
        if (strbuf_failed(&b))
                return verb_fail("features", NULL, "out of memory");
        fputs(b.ptr, stdout);
        return 0;
}
