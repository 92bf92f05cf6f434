/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The OCI runtime-spec config.json (v1.0-v1.2) as plain C data.
 *
 * oci_config_parse() validates the whole document before anything is done with
 * it: a wrong value is refused with its field path, e.g.
 *   "process.args: must be a non-empty array of strings".
 * Unknown properties are ignored, as the spec requires. Mount options are
 * translated here into mount flags, so the runtime only executes a plan.
 *
 * Ownership: everything hangs off OciConfig and is freed by oci_config_free().
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

struct json_object;

typedef enum NamespaceType {
        NAMESPACE_PID,
        NAMESPACE_NETWORK,
        NAMESPACE_MOUNT,
        NAMESPACE_IPC,
        NAMESPACE_UTS,
        NAMESPACE_USER,
        NAMESPACE_CGROUP,
        NAMESPACE_TIME,
        _NAMESPACE_MAX,
        _NAMESPACE_INVALID = -EINVAL,
} NamespaceType;

/** namespace_type_from_string() - "pid", "network", "mount", ... as the spec names them. */
NamespaceType namespace_type_from_string(const char *s);
const char *namespace_type_to_string(NamespaceType t);
/** namespace_type_to_clone_flag() - CLONE_NEWPID etc. */
int namespace_type_to_clone_flag(NamespaceType t);
/** namespace_type_to_proc_name() - the name under /proc/PID/ns/ ("pid", "net", "mnt", ...). */
const char *namespace_type_to_proc_name(NamespaceType t);

typedef enum HookKind {
        HOOK_PRESTART,
        HOOK_CREATE_RUNTIME,
        HOOK_CREATE_CONTAINER,
        HOOK_START_CONTAINER,
        HOOK_POSTSTART,
        HOOK_POSTSTOP,
        _HOOK_MAX,
        _HOOK_INVALID = -EINVAL,
} HookKind;

const char *hook_kind_to_string(HookKind k); /* "prestart", "createRuntime", ... */

typedef struct OciUser {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char *username; /* optional, informational */
} OciUser;

typedef struct OciRlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft;
        uint64_t hard;
} OciRlimit;

typedef enum CapabilitySet {
        CAP_SET_BOUNDING,
        CAP_SET_EFFECTIVE,
        CAP_SET_INHERITABLE,
        CAP_SET_PERMITTED,
        CAP_SET_AMBIENT,
        _CAP_SET_MAX,
} CapabilitySet;

typedef struct OciCapabilities {
        /* Capability numbers (CAP_*), validated against names known to libcap. */
        int *caps[_CAP_SET_MAX];
        size_t n_caps[_CAP_SET_MAX];
} OciCapabilities;

typedef struct OciProcess {
        bool terminal;
        bool has_console_size;
        unsigned console_height;
        unsigned console_width;
        char **args; /* non-empty */
        char **env;
        char *cwd; /* absolute */
        OciUser user;
        OciCapabilities *capabilities; /* NULL when absent */
        OciRlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile;
        char *selinux_label;
} OciProcess;

typedef struct OciMount {
        char *destination; /* absolute, cleaned */
        char *type;        /* may be NULL: then a bind mount if options say so */
        char *source;      /* may be NULL */
        char **options;    /* as given */

        /* Derived from options: */
        bool is_bind;        /* "bind" or "rbind" */
        bool is_recursive;   /* "rbind" */
        unsigned long flags; /* MS_RDONLY|MS_NOSUID|... for mount(2), with MS_BIND(|MS_REC) if is_bind */
        unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE (| MS_REC), 0 if none */
        uint64_t attr_set;         /* MOUNT_ATTR_* for the recursive variants ("rro", "rnosuid", ...) */
        uint64_t attr_clr;
        char *data; /* remaining options joined by ',' for the filesystem (e.g. "size=64k,mode=755") */
} OciMount;

typedef struct OciNamespace {
        NamespaceType type;
        char *path; /* NULL: create a new one; else join this one */
} OciNamespace;

typedef struct OciIdMapping {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
} OciIdMapping;

typedef struct OciDevice {
        char type;  /* 'c', 'b', 'u' or 'p' */
        char *path; /* absolute */
        int64_t major;
        int64_t minor;
        bool has_file_mode;
        mode_t file_mode;
        bool has_uid;
        uid_t uid;
        bool has_gid;
        gid_t gid;
} OciDevice;

typedef struct OciHook {
        char *path; /* absolute */
        char **args;
        char **env;
        bool has_timeout;
        int timeout_sec; /* > 0 */
} OciHook;

typedef struct OciKeyValue {
        char *key;
        char *value;
} OciKeyValue;

typedef struct OciLinux {
        OciNamespace *namespaces;
        size_t n_namespaces;
        OciIdMapping *uid_mappings;
        size_t n_uid_mappings;
        OciIdMapping *gid_mappings;
        size_t n_gid_mappings;
        OciDevice *devices;
        size_t n_devices;
        OciKeyValue *sysctl;
        size_t n_sysctl;
        char *cgroups_path;
        char *rootfs_propagation;               /* NULL or one of "private", "rprivate", "slave", ... */
        unsigned long rootfs_propagation_flags; /* derived; 0 when absent */
        char **masked_paths;
        char **readonly_paths;
        char *mount_label;
        bool has_time_offsets;
        int64_t time_offset_boottime_secs;
        uint32_t time_offset_boottime_nanosecs;
        int64_t time_offset_monotonic_secs;
        uint32_t time_offset_monotonic_nanosecs;
        /* Checked to be objects here; parsed and enforced by the cgroup and seccomp modules. */
        struct json_object *resources;
        struct json_object *seccomp;
} OciLinux;

typedef struct OciConfig {
        char *oci_version;
        OciProcess *process; /* NULL when absent (allowed by the spec; create refuses it) */
        char *root_path;     /* as written: relative to the bundle or absolute */
        bool root_readonly;
        char *hostname;
        char *domainname;
        OciMount *mounts;
        size_t n_mounts;
        OciHook *hooks[_HOOK_MAX];
        size_t n_hooks[_HOOK_MAX];
        OciKeyValue *annotations;
        size_t n_annotations;
        bool has_linux;
        OciLinux linux_;
        struct json_object *json; /* the parsed document, kept for resources/seccomp */
} OciConfig;

/**
 * oci_config_parse() - parse and validate a config.json document.
 * Returns 0 and a new OciConfig in @ret, or -EINVAL with "<field path>: <what is wrong>"
 * in @err (-ENOMEM on allocation failure).
 */
int oci_config_parse(const char *text, size_t len, OciConfig **ret, BerthError *err);

/** oci_config_load() - read "<bundle>/config.json" and parse it; errors name the file. */
int oci_config_load(const char *bundle, OciConfig **ret, BerthError *err);

OciConfig *oci_config_free(OciConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciConfig *, oci_config_free)

/**
 * oci_process_parse() - parse a process object (config.json's "process", or the file
 * given to `exec --process`). @field is the path used in messages ("process" or "").
 */
int oci_process_parse(struct json_object *obj, const char *field, OciProcess **ret, BerthError *err);
int oci_process_parse_text(const char *text, size_t len, OciProcess **ret, BerthError *err);
OciProcess *oci_process_free(OciProcess *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciProcess *, oci_process_free)

/** oci_config_find_namespace() - the entry for @t, or NULL if the config does not list it. */
const OciNamespace *oci_config_find_namespace(const OciConfig *c, NamespaceType t);

/**
 * oci_mount_parse_options() - translate mount options into flags/propagation/attr/data.
 * Exposed for unit tests and for `berth run -v`. Unknown options go to @m->data, as runc does.
 */
int oci_mount_parse_options(OciMount *m, BerthError *err);

/** oci_rlimit_from_string() - "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -EINVAL when unknown. */
int oci_rlimit_from_string(const char *s);
