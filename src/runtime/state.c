/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "cgroup/cgroup.h"
#include "state.h"

static const char *const status_names[_CONTAINER_STATUS_MAX] = {
        [CONTAINER_CREATING] = "creating", [CONTAINER_CREATED] = "created", [CONTAINER_RUNNING] = "running",
        [CONTAINER_PAUSED] = "paused",     [CONTAINER_STOPPED] = "stopped",
};

const char *container_status_to_string(ContainerStatus s)
{
        return s >= 0 && s < _CONTAINER_STATUS_MAX ? status_names[s] : "unknown";
}

ContainerState *container_state_free(ContainerState *s)
{
        if (!s)
                return NULL;
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->cgroup_path);
        free(s->annotations_json);
        free(s);
        return NULL;
}

int container_id_validate(const char *id, BerthError *err)
{
        size_t n = strlen(id);

        if (n == 0 || n > CONTAINER_ID_MAX || streq(id, ".") || streq(id, ".."))
                return error_setx(err, -EINVAL, "invalid container id \"%s\"", id);
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || c == '+' || c == ':'))
                        return error_setx(
                                err, -EINVAL,
                                "invalid container id \"%s\": only letters, digits and _-.+: allowed", id);
        }
        return 0;
}

int state_root_open(const char *root, int *ret_fd, BerthError *err)
{
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                int r = mkdir_p(root, 0700);
                if (r < 0)
                        return error_set(err, r, "create state root \"%s\"", root);
                fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return error_set(err, negative_errno(), "open state root \"%s\"", root);
        *ret_fd = fd;
        return 0;
}

int state_dir_create(int root_fd, const char *id, int *ret_fd, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;

        if (mkdirat(root_fd, id, 0700) < 0) {
                if (errno == EEXIST)
                        return error_setx(err, -EEXIST, "container \"%s\" already exists", id);
                return error_set(err, negative_errno(), "create state directory for \"%s\"", id);
        }
        fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                int r = negative_errno();
                unlinkat(root_fd, id, AT_REMOVEDIR);
                return error_set(err, r, "open state directory for \"%s\"", id);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int state_dir_open(int root_fd, const char *id, int lock_op, int *ret_fd, BerthError *err)
{
        _cleanup_close_ int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return error_setx(err, -ENOENT, "container \"%s\" does not exist", id);
                return error_set(err, negative_errno(), "open state of container \"%s\"", id);
        }
        while (flock(fd, lock_op) < 0) {
                if (errno != EINTR)
                        return error_set(err, negative_errno(), "lock state of container \"%s\"", id);
        }
        /* Deleted while we waited for the lock? */
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_nlink == 0)
                return error_setx(err, -ENOENT, "container \"%s\" does not exist", id);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int state_dir_remove(int root_fd, const char *id)
{
        return rm_rf_at(root_fd, id);
}

uint64_t proc_start_time(pid_t pid, bool *ret_zombie)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -EBADF;
        unsigned long long start = 0;

        if (ret_zombie)
                *ret_zombie = false;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* The comm field may contain spaces and parentheses: parse after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p)
                return 0;
        char state = 0;
        /* fields after comm: 3 state ... 22 starttime */
        if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                   &state, &start) != 2)
                return 0;
        if (ret_zombie)
                *ret_zombie = state == 'Z' || state == 'X';
        return start;
}

void container_status_refresh(int dir_fd, ContainerState *s)
{
        bool zombie;
        struct stat st;

        if (s->pid <= 0) {
                s->status = CONTAINER_STOPPED;
                return;
        }
        uint64_t start = proc_start_time(s->pid, &zombie);
        if (start == 0 || start != s->pid_start_time || zombie) {
                s->status = CONTAINER_STOPPED;
                return;
        }
        if (fstatat(dir_fd, EXEC_FIFO, &st, AT_SYMLINK_NOFOLLOW) == 0)
                s->status = CONTAINER_CREATED;
        else
                s->status = CONTAINER_RUNNING;
        if (s->status == CONTAINER_RUNNING && s->cgroup_path) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                if (cgroup_new(s->cgroup_path, &cg, NULL) >= 0 && cgroup_is_frozen(cg))
                        s->status = CONTAINER_PAUSED;
        }
}

int container_state_write(int dir_fd, const ContainerState *s)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_puts(&b, "{\"id\":");
        strbuf_put_json_string(&b, s->id);
        strbuf_printf(&b, ",\"pid\":%d,\"pid_start_time\":%llu,\"bundle\":", (int)s->pid,
                      (unsigned long long)s->pid_start_time);
        strbuf_put_json_string(&b, s->bundle);
        strbuf_puts(&b, ",\"rootfs\":");
        strbuf_put_json_string(&b, s->rootfs);
        strbuf_puts(&b, ",\"created\":");
        strbuf_put_json_string(&b, s->created);
        strbuf_printf(&b, ",\"owner\":%u", (unsigned)s->owner);
        if (s->cgroup_path) {
                strbuf_puts(&b, ",\"cgroup_path\":");
                strbuf_put_json_string(&b, s->cgroup_path);
        }
        if (s->annotations_json) {
                strbuf_puts(&b, ",\"annotations\":");
                strbuf_puts(&b, s->annotations_json);
        }
        if (s->exit_code >= 0)
                strbuf_printf(&b, ",\"exit_code\":%d,\"exit_signal\":%d", s->exit_code, s->exit_signal);
        strbuf_puts(&b, "}\n");
        if (strbuf_failed(&b))
                return -ENOMEM;
        return write_file_atomic_at(dir_fd, STATE_FILE, b.ptr, b.len, 0600, 0);
}

static int dup_string(json_object *o, const char *key, char **ret)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

int container_state_load(int dir_fd, const char *id, ContainerState **ret, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(container_state_freep) ContainerState *s = NULL;
        json_object *o, *v;
        int r;

        r = read_full_file_at(dir_fd, STATE_FILE, 1 << 20, &text, NULL);
        if (r == -ENOENT)
                return -ENOENT; /* creating */
        if (r < 0)
                return error_set(err, r, "read state of container \"%s\"", id);
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return error_setx(err, -EBADMSG, "state of container \"%s\" is corrupt", id);
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                json_object_put(o);
                return -ENOMEM;
        }
        r = dup_string(o, "id", &s->id);
        if (r >= 0)
                r = dup_string(o, "bundle", &s->bundle);
        if (r >= 0)
                r = dup_string(o, "rootfs", &s->rootfs);
        if (r >= 0)
                r = dup_string(o, "created", &s->created);
        if (r >= 0 && json_object_object_get_ex(o, "pid", &v))
                s->pid = (pid_t)json_object_get_int(v);
        if (r >= 0 && json_object_object_get_ex(o, "pid_start_time", &v))
                s->pid_start_time = (uint64_t)json_object_get_uint64(v);
        if (r >= 0 && json_object_object_get_ex(o, "owner", &v))
                s->owner = (uid_t)json_object_get_int64(v);
        if (r >= 0 && json_object_object_get_ex(o, "cgroup_path", &v))
                r = dup_string(o, "cgroup_path", &s->cgroup_path);
        s->exit_code = -1;
        if (r >= 0 && json_object_object_get_ex(o, "exit_code", &v))
                s->exit_code = json_object_get_int(v);
        if (r >= 0 && json_object_object_get_ex(o, "exit_signal", &v))
                s->exit_signal = json_object_get_int(v);
        if (r >= 0 && json_object_object_get_ex(o, "annotations", &v)) {
                s->annotations_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
                if (!s->annotations_json)
                        r = -ENOMEM;
        }
        json_object_put(o);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_setx(err, -EBADMSG, "state of container \"%s\" is corrupt", id);
        container_status_refresh(dir_fd, s);
        if (s->status == CONTAINER_STOPPED && s->cgroup_path) {
                _cleanup_(cgroup_freep) Cgroup *cg = NULL;
                s->oom_killed = cgroup_new(s->cgroup_path, &cg, NULL) >= 0 && cgroup_oom_kills(cg) > 0;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int container_state_set_exit(int dir_fd, ContainerState *s, int wait_status)
{
        if (WIFEXITED(wait_status)) {
                s->exit_code = WEXITSTATUS(wait_status);
                s->exit_signal = 0;
        } else if (WIFSIGNALED(wait_status)) {
                s->exit_signal = WTERMSIG(wait_status);
                s->exit_code = 128 + s->exit_signal;
        }
        return container_state_write(dir_fd, s);
}

char *container_state_to_json(const ContainerState *s, bool pretty)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        const char *nl = pretty ? "\n  " : "";
        const char *sp = pretty ? " " : "";

        strbuf_printf(&b, "{%s\"ociVersion\":%s\"1.2.0\",%s\"id\":%s", nl, sp, nl, sp);
        strbuf_put_json_string(&b, s->id);
        strbuf_printf(&b, ",%s\"pid\":%s%d,%s\"status\":%s\"%s\",%s\"bundle\":%s", nl, sp,
                      s->status == CONTAINER_STOPPED ? 0 : (int)s->pid, nl, sp,
                      container_status_to_string(s->status), nl, sp);
        strbuf_put_json_string(&b, s->bundle);
        strbuf_printf(&b, ",%s\"rootfs\":%s", nl, sp);
        strbuf_put_json_string(&b, s->rootfs);
        strbuf_printf(&b, ",%s\"created\":%s", nl, sp);
        strbuf_put_json_string(&b, s->created);
        strbuf_printf(&b, ",%s\"owner\":%s\"\",%s\"annotations\":%s%s", nl, sp, nl, sp,
                      s->annotations_json ? s->annotations_json : "{}");
        if (s->status == CONTAINER_STOPPED) {
                if (s->exit_code >= 0)
                        strbuf_printf(&b, ",%s\"exitCode\":%s%d", nl, sp, s->exit_code);
                if (s->exit_signal > 0)
                        strbuf_printf(&b, ",%s\"signal\":%s%d", nl, sp, s->exit_signal);
                if (s->cgroup_path)
                        strbuf_printf(&b, ",%s\"oomKilled\":%s%s", nl, sp, s->oom_killed ? "true" : "false");
        }
        strbuf_printf(&b, "%s}", pretty ? "\n" : "");
        return strbuf_steal(&b);
}

int pid_file_write(const char *path, pid_t pid, BerthError *err)
{
        char buf[32], dir[PATH_MAX];
        _cleanup_close_ int dfd = -EBADF;
        const char *slash = strrchr(path, '/');
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

        if (slash) {
                if ((size_t)(slash - path) >= sizeof(dir))
                        return -ENAMETOOLONG;
                memcpy(dir, path, (size_t)(slash - path));
                dir[slash - path] = '\0';
                dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else
                dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return error_set(err, negative_errno(), "pid file \"%s\"", path);
        int r = write_file_atomic_at(dfd, slash ? slash + 1 : path, buf, (size_t)n, 0644, 0);
        if (r < 0)
                return error_set(err, r, "write pid file \"%s\"", path);
        return 0;
}
