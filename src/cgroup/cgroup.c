/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "cgroup-internal.h"
#include "devices-bpf.h"

static const char *const v1_names[_CG_MAX] = {
        [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpuacct",   [CG_CPUSET] = "cpuset",
        [CG_MEMORY] = "memory",   [CG_PIDS] = "pids",         [CG_IO] = "blkio",
        [CG_DEVICES] = "devices", [CG_FREEZER] = "freezer",   [CG_HUGETLB] = "hugetlb",
        [CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio", [CG_RDMA] = "rdma",
        [CG_MISC] = "misc",
};

static const char *const v2_names[_CG_MAX] = {
        [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpu", [CG_CPUSET] = "cpuset",
        [CG_MEMORY] = "memory",   [CG_PIDS] = "pids",   [CG_IO] = "io",
        [CG_HUGETLB] = "hugetlb", [CG_RDMA] = "rdma",   [CG_MISC] = "misc",
};

const char *cgroup_controller_v1_name(CgroupController c)
{
        return c >= 0 && c < _CG_MAX ? v1_names[c] : NULL;
}

const char *cgroup_controller_v2_name(CgroupController c)
{
        return c >= 0 && c < _CG_MAX ? v2_names[c] : NULL;
}

const char *cgroup_layout_to_string(CgroupLayout l)
{
        static const char *const names[_CGROUP_LAYOUT_MAX] = {"v1", "hybrid", "v2"};
        return l >= 0 && l < _CGROUP_LAYOUT_MAX ? names[l] : "unknown";
}

/* The host's cgroup mounts: where each v1 controller is, and the cgroup2 mount. */
typedef struct CgroupMounts {
        char *v1[_CG_MAX];
        char *unified;
} CgroupMounts;

static void cgroup_mounts_done(CgroupMounts *m)
{
        for (int c = 0; c < _CG_MAX; c++)
                free(m->v1[c]);
        free(m->unified);
}

static int cgroup_mounts_read(CgroupMounts *m)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return negative_errno();
        while (fgets(line, sizeof(line), f)) {
                /* id parent major:minor root mountpoint opts [optional...] - fstype source superopts */
                char mountpoint[1024], fstype[64], superopts[1024];
                char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mountpoint) != 1 ||
                    sscanf(sep + 3, "%63s %*s %1023s", fstype, superopts) != 2)
                        continue;
                /* A later line at the same mount point is mounted over the earlier one (a tmpfs
                 * over /sys/fs/cgroup/unified, say): what was there is no longer reachable. */
                if (m->unified && streq(m->unified, mountpoint))
                        m->unified = mfree(m->unified);
                for (int c = 0; c < _CG_MAX; c++)
                        if (m->v1[c] && streq(m->v1[c], mountpoint))
                                m->v1[c] = mfree(m->v1[c]);
                if (streq(fstype, "cgroup2")) {
                        if (!m->unified && !(m->unified = strdup(mountpoint)))
                                return -ENOMEM;
                        continue;
                }
                if (!streq(fstype, "cgroup"))
                        continue;
                for (char *tok = strtok(superopts, ","); tok; tok = strtok(NULL, ","))
                        for (int c = 0; c < _CG_MAX; c++)
                                if (streq(tok, v1_names[c]) && !m->v1[c] && !(m->v1[c] = strdup(mountpoint)))
                                        return -ENOMEM;
        }
        return 0;
}

static bool mounts_have_v1(const CgroupMounts *m)
{
        for (int c = 0; c < _CG_MAX; c++)
                if (m->v1[c])
                        return true;
        return false;
}

int cgroup_detect_layout(CgroupLayout *ret, BerthError *err)
{
        _cleanup_(cgroup_mounts_done) CgroupMounts m = {};
        int r = cgroup_mounts_read(&m);
        if (r < 0)
                return error_set(err, r, "read cgroup mounts from /proc/self/mountinfo");
        bool v1 = mounts_have_v1(&m);
        if (!v1 && !m.unified)
                return error_setx(err, -ENOENT, "no cgroup filesystem is mounted");
        *ret = v1 && m.unified ? CGROUP_LAYOUT_HYBRID : v1 ? CGROUP_LAYOUT_V1 : CGROUP_LAYOUT_V2;
        return 0;
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, char **ret, BerthError *err)
{
        char *p;

        if (!cgroups_path || !*cgroups_path) {
                if (asprintf(&p, "/berth/%s", id) < 0)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }
        if (cgroups_path[0] != '/' && strchr(cgroups_path, ':'))
                return error_setx(
                        err, -EOPNOTSUPP,
                        "linux.cgroupsPath: \"%s\" is a systemd slice path, but the systemd cgroup driver "
                        "is not available (use the cgroupfs driver with a path like /berth/%s)",
                        cgroups_path, id);
        /* Every component must be a plain name: no "..", no empty, no "." */
        _cleanup_free_ char *copy = strdup(cgroups_path);
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
                if (streq(tok, "..") || streq(tok, "."))
                        return error_setx(err, -EINVAL,
                                          "linux.cgroupsPath: \"%s\" must not contain \".\" or \"..\"",
                                          cgroups_path);
        if (cgroups_path[0] == '/') {
                if (streq(cgroups_path, "/"))
                        return error_setx(err, -EINVAL, "linux.cgroupsPath: the root cgroup cannot be used");
                p = strdup(cgroups_path);
        } else if (asprintf(&p, "/berth/%s", cgroups_path) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        /* Trailing slashes would make "dir/" and "dir" two names for one cgroup. */
        for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
                p[n - 1] = '\0';
        *ret = p;
        return 0;
}

Cgroup *cgroup_free(Cgroup *cg)
{
        if (!cg)
                return NULL;
        for (int c = 0; c < _CG_MAX; c++)
                free(cg->v1[c]);
        free(cg->unified);
        free(cg->path);
        free(cg);
        return NULL;
}

/* The controller names listed in @dir/@file (cgroup.controllers or cgroup.subtree_control). */
static int read_controllers(const char *dir, const char *file, char ***ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        char **l = NULL;

        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        int r = read_full_file_at(AT_FDCWD, path, 4096, &text, NULL);
        if (r < 0)
                return r;
        for (char *save = NULL, *tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
                if (strv_extend(&l, tok) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

int cgroup_new(const char *path, Cgroup **ret, BerthError *err)
{
        _cleanup_(cgroup_mounts_done) CgroupMounts m = {};
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        _cleanup_strv_free_ char **avail = NULL;
        int r;

        r = cgroup_mounts_read(&m);
        if (r < 0)
                return error_set(err, r, "read cgroup mounts");
        cg = calloc(1, sizeof(*cg));
        if (!cg || !(cg->path = strdup(path)))
                return -ENOMEM;
        bool v1 = mounts_have_v1(&m);
        cg->layout = v1 && m.unified ? CGROUP_LAYOUT_HYBRID : v1 ? CGROUP_LAYOUT_V1 : CGROUP_LAYOUT_V2;
        if (!v1 && !m.unified)
                return error_setx(err, -ENOENT, "no cgroup filesystem is mounted");
        for (int c = 0; c < _CG_MAX; c++)
                if (m.v1[c] && asprintf(&cg->v1[c], "%s%s", m.v1[c], path) < 0)
                        return -ENOMEM;
        if (m.unified) {
                if (asprintf(&cg->unified, "%s%s", m.unified, path) < 0)
                        return -ENOMEM;
                /* What the root offers; a v1 hierarchy takes precedence for a controller. On a
                 * hybrid host the root of the cgroup2 tree is the host's to configure: we use
                 * only what it already hands down, and never enable more there. */
                (void)read_controllers(m.unified,
                                       cg->layout == CGROUP_LAYOUT_HYBRID ? "cgroup.subtree_control"
                                                                          : "cgroup.controllers",
                                       &avail);
                for (int c = 0; c < _CG_MAX; c++)
                        cg->in_v2[c] = !cg->v1[c] && v2_names[c] && strv_contains(avail, v2_names[c]);
                /* Freezing and device filtering are built into cgroup2, not controllers. */
                cg->in_v2[CG_FREEZER] = !cg->v1[CG_FREEZER];
                cg->in_v2[CG_DEVICES] = !cg->v1[CG_DEVICES];
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

const char *cgroup_dir(const Cgroup *cg, CgroupController c)
{
        if (cg->v1[c])
                return cg->v1[c];
        if (cg->in_v2[c])
                return cg->unified;
        return NULL;
}

int cgroup_read_file(Cgroup *cg, CgroupController c, const char *file, char **ret)
{
        _cleanup_free_ char *path = NULL;
        const char *dir = cgroup_dir(cg, c);
        if (!dir)
                return -ENODEV;
        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        return read_full_file_at(AT_FDCWD, path, 1 << 20, ret, NULL);
}

int cgroup_read_u64(Cgroup *cg, CgroupController c, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = cgroup_read_file(cg, c, file, &text);
        if (r < 0)
                return r;
        if (strncmp(text, "max", 3) == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || end == text)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems, and attaching to it fails until they
 * are set. Copy each level's from its parent on the way down. */
static int cpuset_v1_init(const char *dir)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL, *parent = NULL, *cur = NULL, *val = NULL;
                if (asprintf(&path, "%s/%s", dir, files[i]) < 0 ||
                    asprintf(&parent, "%s/../%s", dir, files[i]) < 0)
                        return -ENOMEM;
                if (read_full_file_at(AT_FDCWD, path, 4096, &cur, NULL) >= 0 && cur[0] != '\n' &&
                    cur[0] != '\0')
                        continue;
                int r = read_full_file_at(AT_FDCWD, parent, 4096, &val, NULL);
                if (r < 0)
                        return r;
                r = write_string_file(path, val);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Set on every directory berth makes, so that delete removes the empty parents it made and
 * never one it found (an administrator's slice with its own limits). Where the kernel has no
 * xattrs on cgroupfs nothing is marked and the parents stay, as with runc. */
#define CGROUP_CREATED_XATTR "user.berth.created"

/* mkdir -p that knows where the hierarchy starts, so cpuset levels can be initialised.
 * A parent berth made goes away when the last container below it is deleted; a delete running
 * beside us can remove one between our mkdir of it (or EEXIST) and that of its child. Then
 * the walk starts over from the top: once the leaf exists, no parent can be removed. */
static int mkdir_cgroup(const char *mount_dir_full, const char *path, bool cpuset, BerthError *err)
{
        size_t base_len = strlen(mount_dir_full) - strlen(path);
        _cleanup_free_ char *p = strdup(mount_dir_full);
        unsigned restarts = 0;
        if (!p)
                return -ENOMEM;
        for (char *s = p + base_len + 1;; s++) {
                bool end = *s == '\0';
                const char *what = "create cgroup";
                int r = 0;
                if (*s != '/' && !end)
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) == 0)
                        (void)setxattr(p, CGROUP_CREATED_XATTR, "1", 1, 0);
                else if (errno != EEXIST)
                        r = negative_errno();
                if (r >= 0 && cpuset) {
                        what = "initialise cpuset of";
                        r = cpuset_v1_init(p);
                }
                if (r == -ENOENT && restarts++ < 16) {
                        strcpy(p, mount_dir_full);
                        s = p + base_len; /* the loop's s++ moves to the first component again */
                        continue;
                }
                if (r < 0)
                        return error_set(err, r, "%s \"%s\"", what, p);
                if (end)
                        break;
                *s = '/';
        }
        return 0;
}

/* Enable, in each ancestor's cgroup.subtree_control, the controllers the leaf should have. */
static int enable_v2_controllers(Cgroup *cg, BerthError *err)
{
        size_t base_len = strlen(cg->unified) - strlen(cg->path);
        _cleanup_free_ char *p = strdup(cg->unified);
        if (!p)
                return -ENOMEM;
        for (char *s = p + base_len;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                bool last = *s == '\0';
                bool root = (size_t)(s - p) == base_len;
                char saved = *s;
                *s = '\0';
                if (last)
                        break;
                _cleanup_strv_free_ char **avail = NULL, **enabled = NULL;
                const char *dir = *p ? p : "/";
                /* The hybrid root is the host's (see cgroup_new); elsewhere write only what is missing. */
                if (!(root && cg->layout == CGROUP_LAYOUT_HYBRID) &&
                    read_controllers(dir, "cgroup.controllers", &avail) >= 0 &&
                    read_controllers(dir, "cgroup.subtree_control", &enabled) >= 0) {
                        char path[4200];
                        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
                        for (int c = 0; c < _CG_MAX; c++) {
                                if (!cg->in_v2[c] || !v2_names[c] || !strv_contains(avail, v2_names[c]) ||
                                    strv_contains(enabled, v2_names[c]))
                                        continue;
                                char cmd[64];
                                snprintf(cmd, sizeof(cmd), "+%s", v2_names[c]);
                                int r = write_string_file(path, cmd);
                                if (r < 0 && r != -EINVAL)
                                        return error_set(err, r, "enable the %s controller in \"%s\"",
                                                         v2_names[c], dir);
                        }
                }
                *s = saved;
        }
        return 0;
}

int cgroup_create(Cgroup *cg, BerthError *err)
{
        int r;

        for (int c = 0; c < _CG_MAX; c++) {
                if (!cg->v1[c])
                        continue;
                r = mkdir_cgroup(cg->v1[c], cg->path, c == CG_CPUSET, err);
                if (r < 0)
                        return r;
        }
        if (cg->unified) {
                r = mkdir_cgroup(cg->unified, cg->path, false, err);
                if (r < 0)
                        return r;
                r = enable_v2_controllers(cg, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A resource whose controller the host lacks is an error, never silently dropped. */
static int check_available(Cgroup *cg, const CgroupResources *r, BerthError *err)
{
        const struct {
                bool wanted;
                CgroupController c;
                const char *field;
        } needs[] = {
                {r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap, CG_MEMORY,
                 "linux.resources.memory"},
                {r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst ||
                         r->has_cpu_idle,
                 CG_CPU, "linux.resources.cpu"},
                {r->cpu_cpus || r->cpu_mems, CG_CPUSET, "linux.resources.cpu.cpus"},
                {r->has_pids_limit, CG_PIDS, "linux.resources.pids"},
                {r->has_blkio_weight || r->n_blkio_weight_devices || r->n_blkio_throttle[0] ||
                         r->n_blkio_throttle[1] || r->n_blkio_throttle[2] || r->n_blkio_throttle[3],
                 CG_IO, "linux.resources.blockIO"},
                {r->n_hugepage_limits > 0, CG_HUGETLB, "linux.resources.hugepageLimits"},
                {r->has_net_class_id, CG_NET_CLS, "linux.resources.network.classID"},
                {r->n_net_priorities > 0, CG_NET_PRIO, "linux.resources.network.priorities"},
                {r->n_rdma > 0, CG_RDMA, "linux.resources.rdma"},
        };
        for (size_t i = 0; i < ELEMENTSOF(needs); i++)
                if (needs[i].wanted && !cgroup_dir(cg, needs[i].c))
                        return cg_require(cg, needs[i].c, needs[i].field, err);
        return 0;
}

int cgroup_apply(Cgroup *cg, const CgroupResources *r, bool update, BerthError *err)
{
        int k;

        if (!r)
                return 0;
        k = check_available(cg, r, err);
        if (k < 0)
                return k;
        if (update && r->check_before_update && r->has_memory_limit && r->memory_limit > 0) {
                uint64_t usage;
                const char *file = cg->v1[CG_MEMORY] ? "memory.usage_in_bytes" : "memory.current";
                if (cgroup_read_u64(cg, CG_MEMORY, file, &usage) >= 0 && usage > (uint64_t)r->memory_limit)
                        return error_setx(err, -EBUSY,
                                          "linux.resources.memory.limit: %" PRId64
                                          " is below the current usage of %" PRIu64
                                          " bytes (checkBeforeUpdate)",
                                          r->memory_limit, usage);
        }
        if (cg->layout != CGROUP_LAYOUT_V2) {
                k = cgroup_v1_apply(cg, r, update, err);
                if (k < 0)
                        return k;
        }
        if (cg->unified)
                return cgroup_v2_apply(cg, r, update, err);
        return 0;
}

/* Each distinct directory once (cpu and cpuacct often share one). */
static size_t cgroup_dirs(const Cgroup *cg, const char **dirs)
{
        size_t n = 0;
        for (int c = 0; c < _CG_MAX; c++) {
                if (!cg->v1[c])
                        continue;
                bool seen = false;
                for (size_t i = 0; i < n; i++)
                        seen = seen || streq(dirs[i], cg->v1[c]);
                if (!seen)
                        dirs[n++] = cg->v1[c];
        }
        if (cg->unified)
                dirs[n++] = cg->unified;
        return n;
}

int cgroup_attach(Cgroup *cg, pid_t pid, BerthError *err)
{
        const char *dirs[_CG_MAX + 1];
        size_t n = cgroup_dirs(cg, dirs);
        char buf[32];

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < n; i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
                int r = write_string_file(path, buf);
                if (r < 0)
                        return error_set(err, r, "move process %d into cgroup \"%s\"", (int)pid, dirs[i]);
        }
        return 0;
}

static int compare_pids(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

/* Cgroups nest at most this deep below a container's (the kernel's own limit is far higher). */
#define CGROUP_TREE_MAX_DEPTH 64

/* Whether @de names a directory (a child cgroup) of the directory @d. */
static bool dirent_is_dir(DIR *d, const struct dirent *de)
{
        struct stat st;
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                return false;
        if (de->d_type != DT_UNKNOWN)
                return de->d_type == DT_DIR;
        return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Append the processes of the cgroup at @dir and of every cgroup below it: a container may
 * make cgroups of its own (systemd, a nested runtime) and move processes there. */
static int read_procs_tree(const char *dir, int depth, pid_t **pids, size_t *n)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, 16 << 20, &text, NULL);
        if (r < 0)
                return r;
        for (char *save = NULL, *tok = strtok_r(text, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
                pid_t *p = realloc(*pids, (*n + 1) * sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                *pids = p;
                (*pids)[(*n)++] = (pid_t)atoi(tok);
        }
        if (depth >= CGROUP_TREE_MAX_DEPTH || !(d = opendir(dir)))
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                if (!dirent_is_dir(d, de))
                        continue;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                /* A child that went away, or a threaded one (no cgroup.procs to read), adds none. */
                r = read_procs_tree(sub, depth + 1, pids, n);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

int cgroup_pids(Cgroup *cg, pid_t **ret, size_t *ret_n)
{
        static const CgroupController prefer[] = {CG_PIDS, CG_MEMORY, CG_FREEZER, CG_CPU, CG_DEVICES};
        const char *dir = NULL;
        pid_t *pids = NULL;
        size_t n = 0;

        if (cg->unified && cg->layout == CGROUP_LAYOUT_V2)
                dir = cg->unified;
        else
                for (size_t i = 0; i < ELEMENTSOF(prefer) && !dir; i++)
                        dir = cg->v1[prefer[i]];
        if (!dir)
                return -ENODEV;
        int r = read_procs_tree(dir, 0, &pids, &n);
        if (r < 0) {
                free(pids);
                return r;
        }
        if (n > 0) /* qsort's pointer must not be NULL, even for no elements */
                qsort(pids, n, sizeof(pid_t), compare_pids);
        *ret = pids;
        *ret_n = n;
        return 0;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

bool cgroup_is_frozen(Cgroup *cg)
{
        _cleanup_free_ char *text = NULL;
        if (cg->v1[CG_FREEZER])
                return cgroup_read_file(cg, CG_FREEZER, "freezer.state", &text) >= 0 &&
                       strncmp(text, "FROZEN", 6) == 0;
        if (cg->unified && cgroup_read_file(cg, CG_FREEZER, "cgroup.events", &text) >= 0)
                return strstr(text, "frozen 1") != NULL;
        return false;
}

int cgroup_freeze(Cgroup *cg, bool frozen, BerthError *err)
{
        char path[4200];
        const char *dir = cgroup_dir(cg, CG_FREEZER);
        int r;

        if (!dir)
                return error_setx(err, -EOPNOTSUPP, "the freezer is not available on this host");
        if (cg->v1[CG_FREEZER]) {
                snprintf(path, sizeof(path), "%s/freezer.state", dir);
                r = write_string_file(path, frozen ? "FROZEN" : "THAWED");
        } else {
                snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
                r = write_string_file(path, frozen ? "1" : "0");
        }
        if (r < 0)
                return error_set(err, r, "%s cgroup \"%s\"", frozen ? "freeze" : "thaw", cg->path);
        /* Freezing is asynchronous: a task in an uninterruptible sleep freezes later. */
        for (int i = 0; i < 1000; i++) {
                if (cgroup_is_frozen(cg) == frozen)
                        return 0;
                sleep_ms(i < 20 ? 1 : 10);
        }
        return error_setx(err, -ETIMEDOUT, "%s cgroup \"%s\": timed out", frozen ? "freeze" : "thaw",
                          cg->path);
}

int cgroup_kill_all(Cgroup *cg, int sig, BerthError *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        int r;

        if (sig == SIGKILL && cg->layout == CGROUP_LAYOUT_V2) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/cgroup.kill", cg->unified);
                if (write_string_file(path, "1") >= 0)
                        return 0;
        }
        /* Frozen, nothing can fork a child we would miss. */
        bool froze =
                cgroup_dir(cg, CG_FREEZER) && !cgroup_is_frozen(cg) && cgroup_freeze(cg, true, NULL) >= 0;
        r = cgroup_pids(cg, &pids, &n);
        if (r >= 0)
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], sig);
        if (froze)
                cgroup_freeze(cg, false, NULL);
        if (r < 0)
                return error_set(err, r, "list processes of cgroup \"%s\"", cg->path);
        return 0;
}

uint64_t cgroup_oom_kills(Cgroup *cg)
{
        _cleanup_free_ char *text = NULL;
        const char *file = cg->v1[CG_MEMORY] ? "memory.oom_control" : "memory.events";
        if (cgroup_read_file(cg, CG_MEMORY, file, &text) < 0)
                return 0;
        const char *p = strstr(text, "oom_kill ");
        return p ? strtoull(p + strlen("oom_kill "), NULL, 10) : 0;
}

static int rmdir_with_retry(const char *dir)
{
        for (int i = 0; i < 200; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return negative_errno();
                sleep_ms(5); /* exiting tasks leave the cgroup a moment after they die */
        }
        return -EBUSY;
}

/* rmdir @dir after the cgroups a container made below it, deepest first. */
static int rmdir_tree(const char *dir, int depth)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (depth < CGROUP_TREE_MAX_DEPTH && (d = opendir(dir)))
                while ((de = readdir(d))) {
                        _cleanup_free_ char *sub = NULL;
                        if (!dirent_is_dir(d, de))
                                continue;
                        if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                                return -ENOMEM;
                        int r = rmdir_tree(sub, depth + 1);
                        if (r < 0)
                                return r;
                }
        return rmdir_with_retry(dir);
}

/* Remove the empty ancestors berth created, up to the hierarchy's root; one it did not create,
 * or a busy or non-empty one, stops us. */
static void rmdir_parents(const char *dir, size_t base_len)
{
        _cleanup_free_ char *p = strdup(dir);
        if (!p)
                return;
        for (;;) {
                char *slash = strrchr(p, '/');
                if (!slash || (size_t)(slash - p) <= base_len)
                        return;
                *slash = '\0';
                if (getxattr(p, CGROUP_CREATED_XATTR, NULL, 0) < 0 || rmdir(p) < 0)
                        return;
        }
}

int cgroup_destroy(Cgroup *cg, BerthError *err)
{
        const char *dirs[_CG_MAX + 1];
        _cleanup_free_ pid_t *pids = NULL;
        size_t n, npids;
        int r = 0;

        if (cgroup_pids(cg, &pids, &npids) >= 0 && npids > 0) {
                if (cgroup_is_frozen(cg))
                        cgroup_freeze(cg, false, NULL);
                cgroup_kill_all(cg, SIGKILL, NULL);
        }
        n = cgroup_dirs(cg, dirs);
        for (size_t i = 0; i < n; i++) {
                int k = rmdir_tree(dirs[i], 0);
                if (k < 0 && r >= 0)
                        r = error_set(err, k, "remove cgroup \"%s\"", dirs[i]);
                else
                        rmdir_parents(dirs[i], strlen(dirs[i]) - strlen(cg->path));
        }
        return r;
}

int device_rules_for_container(struct json_object *devices, DeviceRule **ret, size_t *ret_n, BerthError *err)
{
        _cleanup_free_ DeviceRule *rules = NULL;
        size_t n = 0;
        int r = device_rules_from_json(devices, &rules, &n, err);
        if (r < 0)
                return r;
        DeviceRule *all = realloc(rules, (n + device_rules_default_count) * sizeof(DeviceRule));
        if (!all)
                return -ENOMEM;
        rules = all;
        memcpy(rules + n, device_rules_default, device_rules_default_count * sizeof(DeviceRule));
        *ret_n = n + device_rules_default_count;
        *ret = TAKE_PTR(rules);
        return 0;
}
