/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * berth-probe: a small static helper that runs inside test containers and reports what it sees
 * as one JSON document on stdout, so the system tests can assert on the container from inside.
 *
 *   berth-probe info | mounts | pids | netifs | sysvipc | tty | fds | clocks
 *   berth-probe ls DIR | cat FILE | write FILE DATA | open PATH | stat PATH
 *   berth-probe exit N | sleep SECONDS | signal-exit
 *   berth-probe hog BYTES [HOLD] | forkbomb [HOLD] | spin SECONDS | mknod PATH c|b MAJ MIN
 *   berth-probe counter FILE
 *   berth-probe statfs PATH | peek PID | snoop DIR SECONDS   (escape attempts, test_escapes.py)
 *   berth-probe syscall NAME [ARG...]                            (seccomp, test_seccomp.py)
 *
 * It links against libc only and is built with -static, so it runs in a rootfs that holds nothing
 * but itself. Exit status: 0 on success, 1 when the probed operation failed (the JSON says why),
 * 2 on a usage error.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A tiny JSON writer: it remembers, per nesting level, whether a separator is due. */
#define JSON_MAX_DEPTH 16

static bool json_need_comma[JSON_MAX_DEPTH];
static int json_depth;
static bool json_after_key;

static void json_separator(void)
{
        if (json_after_key) {
                json_after_key = false;
                return;
        }
        if (json_need_comma[json_depth])
                fputc(',', stdout);
        json_need_comma[json_depth] = true;
}

static void json_raw_string(const char *s)
{
        fputc('"', stdout);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", stdout);
                        break;
                case '\\':
                        fputs("\\\\", stdout);
                        break;
                case '\n':
                        fputs("\\n", stdout);
                        break;
                case '\t':
                        fputs("\\t", stdout);
                        break;
                case '\r':
                        fputs("\\r", stdout);
                        break;
                default:
                        /* Bytes >= 0x80 are escaped one by one, so any input gives valid JSON. */
                        if (*p < 0x20 || *p >= 0x7f)
                                printf("\\u%04x", *p);
                        else
                                fputc(*p, stdout);
                }
        }
        fputc('"', stdout);
}

static void json_open(char c)
{
        json_separator();
        fputc(c, stdout);
        if (json_depth + 1 >= JSON_MAX_DEPTH)
                abort();
        json_depth++;
        json_need_comma[json_depth] = false;
}

static void json_close(char c)
{
        json_depth--;
        fputc(c, stdout);
}

static void json_key(const char *key)
{
        json_separator();
        json_raw_string(key);
        fputc(':', stdout);
        json_after_key = true;
}

static void json_string(const char *s)
{
        json_separator();
        if (s)
                json_raw_string(s);
        else
                fputs("null", stdout);
}

static void json_int(long long v)
{
        json_separator();
        printf("%lld", v);
}

static void json_bool(bool v)
{
        json_separator();
        fputs(v ? "true" : "false", stdout);
}

static int json_finish(int status)
{
        fputc('\n', stdout);
        if (fflush(stdout) != 0)
                return 1;
        return status;
}

static int usage(void)
{
        fputs("usage: berth-probe info|mounts|pids|netifs|sysvipc|tty|fds|clocks|ls DIR|cat FILE|\n"
              "                   write FILE DATA|open PATH|stat PATH|exit N|sleep SECONDS|signal-exit|\n"
              "                   hog BYTES [HOLD]|forkbomb [HOLD]|spin SECONDS|mknod PATH c|b MAJ MIN|\n"
              "                   counter FILE|statfs PATH|peek PID|snoop DIR SECONDS|\n"
              "                   syscall NAME [ARG...]\n",
              stderr);
        return 2;
}

static bool parse_long(const char *s, long *ret)
{
        char *end = NULL;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0')
                return false;
        *ret = v;
        return true;
}

/* Reports a failed operation as {"ok":false,"errno":N,"error":"..."} and returns 1. */
static int report_errno(const char *what, const char *path, int err)
{
        json_open('{');
        json_key("ok");
        json_bool(false);
        json_key("op");
        json_string(what);
        json_key("path");
        json_string(path);
        json_key("errno");
        json_int(err);
        json_key("error");
        json_string(strerror(err));
        json_close('}');
        return json_finish(1);
}

/* Reads a whole (small, procfs) file into a NUL-terminated heap buffer; NULL with errno set. */
static char *read_file(const char *path, size_t *ret_len)
{
        size_t len = 0, cap = 4096;
        char *buf = NULL;
        int fd, err = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        buf = malloc(cap);
        while (buf) {
                ssize_t n;

                if (cap - len < 2) {
                        char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);

                        if (!bigger) {
                                err = ENOMEM;
                                break;
                        }
                        buf = bigger;
                        cap *= 2;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        err = errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (!buf || err != 0) {
                free(buf);
                errno = buf ? err : ENOMEM;
                return NULL;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

/* Returns the value of "Key:" in /proc/self/status, trimmed, in a static buffer; NULL if absent. */
static const char *status_field(const char *status, const char *key)
{
        static char value[256];
        size_t klen = strlen(key);

        for (const char *line = status; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t llen = eol ? (size_t)(eol - line) : strlen(line);

                if (llen > klen && strncmp(line, key, klen) == 0 && line[klen] == ':') {
                        const char *v = line + klen + 1;
                        size_t vlen;

                        while (v < line + llen && isspace((unsigned char)*v))
                                v++;
                        vlen = (size_t)(line + llen - v);
                        if (vlen >= sizeof(value))
                                vlen = sizeof(value) - 1;
                        memcpy(value, v, vlen);
                        value[vlen] = '\0';
                        return value;
                }
                line = eol ? eol + 1 : NULL;
        }
        return NULL;
}

static int compare_ints(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;

        return (x > y) - (x < y);
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Emits the numeric names in DIR, sorted; with skip_own_fd, leaves out the fd used to list it. */
static int emit_numeric_dir(const char *path, bool skip_own_fd)
{
        size_t n = 0, cap = 64;
        long *values = malloc(cap * sizeof(long));
        struct dirent *de;
        DIR *d;

        if (!values)
                return -ENOMEM;
        d = opendir(path);
        if (!d) {
                int err = errno;

                free(values);
                return -err;
        }
        while ((de = readdir(d))) {
                long v;

                if (!parse_long(de->d_name, &v))
                        continue;
                if (skip_own_fd && v == dirfd(d))
                        continue;
                if (n == cap) {
                        long *bigger = realloc(values, cap * 2 * sizeof(long));

                        if (!bigger) {
                                closedir(d);
                                free(values);
                                return -ENOMEM;
                        }
                        values = bigger;
                        cap *= 2;
                }
                values[n++] = v;
        }
        closedir(d);
        qsort(values, n, sizeof(long), compare_ints);
        json_open('[');
        for (size_t i = 0; i < n; i++)
                json_int(values[i]);
        json_close(']');
        free(values);
        return 0;
}

static void emit_namespaces(void)
{
        static const char *const names[] = {"cgroup",           "ipc",  "mnt",  "net", "pid",
                                            "pid_for_children", "time", "user", "uts", NULL};

        json_open('{');
        for (size_t i = 0; names[i]; i++) {
                char path[64], target[256];
                ssize_t n;

                snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
                n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                json_key(names[i]);
                json_string(target);
        }
        json_close('}');
}

static int cmd_info(void)
{
        char hostname[HOST_NAME_MAX + 1] = "", cwd[PATH_MAX], *status;
        static const char *const caps[][2] = {
                {"cap_eff", "CapEff"}, {"cap_prm", "CapPrm"}, {"cap_inh", "CapInh"},
                {"cap_bnd", "CapBnd"}, {"cap_amb", "CapAmb"},
        };
        struct utsname uts;
        gid_t groups[NGROUPS_MAX];
        const char *v;
        mode_t mask;
        int ngroups;

        status = read_file("/proc/self/status", NULL);
        json_open('{');
        json_key("pid");
        json_int(getpid());
        json_key("ppid");
        json_int(getppid());
        json_key("uid");
        json_int(getuid());
        json_key("gid");
        json_int(getgid());
        json_key("euid");
        json_int(geteuid());
        json_key("egid");
        json_int(getegid());

        json_key("hostname");
        if (gethostname(hostname, sizeof(hostname) - 1) == 0)
                json_string(hostname);
        else
                json_string(NULL);
        json_key("domainname");
        json_string(uname(&uts) == 0 ? uts.domainname : NULL);
        json_key("cwd");
        json_string(getcwd(cwd, sizeof(cwd)));

        json_key("fds");
        if (emit_numeric_dir("/proc/self/fd", true) < 0)
                json_string(NULL);

        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
                json_key(caps[i][0]);
                json_string(status ? status_field(status, caps[i][1]) : NULL);
        }
        json_key("no_new_privs");
        v = status ? status_field(status, "NoNewPrivs") : NULL;
        if (v)
                json_bool(strcmp(v, "1") == 0);
        else
                json_string(NULL);
        json_key("seccomp");
        v = status ? status_field(status, "Seccomp") : NULL;
        if (v)
                json_int(strtol(v, NULL, 10));
        else
                json_string(NULL);

        /* Reading the umask means setting it; put it back at once. */
        mask = umask(0);
        umask(mask);
        json_key("umask");
        {
                char octal[8];

                snprintf(octal, sizeof(octal), "%04o", (unsigned)mask);
                json_string(octal);
        }

        json_key("groups");
        json_open('[');
        ngroups = getgroups(NGROUPS_MAX, groups);
        for (int i = 0; i < ngroups; i++)
                json_int(groups[i]);
        json_close(']');

        json_key("ns");
        emit_namespaces();

        json_key("env");
        json_open('[');
        for (char **e = environ; e && *e; e++)
                json_string(*e);
        json_close(']');
        json_close('}');
        free(status);
        return json_finish(0);
}

/* Emits each line of a text file as one string of a JSON array. */
static int cmd_lines(const char *path)
{
        char *data = read_file(path, NULL), *line, *save = NULL;

        if (!data)
                return report_errno("read", path, errno);
        json_open('[');
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                json_string(line);
        json_close(']');
        free(data);
        return json_finish(0);
}

static int cmd_pids(void)
{
        int r = emit_numeric_dir("/proc", false);

        if (r < 0)
                return report_errno("opendir", "/proc", -r);
        return json_finish(0);
}

/* /proc/net/dev: two header lines, then "  name: counters..." per interface. */
static int cmd_netifs(void)
{
        char *data = read_file("/proc/net/dev", NULL), *line, *save = NULL;
        int lineno = 0;

        if (!data)
                return report_errno("read", "/proc/net/dev", errno);
        json_open('[');
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon;

                if (lineno++ < 2)
                        continue;
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                while (isspace((unsigned char)*line))
                        line++;
                json_string(line);
        }
        json_close(']');
        free(data);
        return json_finish(0);
}

/* Each /proc/sysvipc file: a header line, then "key id ..." per object. */
static void emit_sysvipc(const char *name)
{
        char path[64], *data, *line, *save = NULL;
        int lineno = 0;

        snprintf(path, sizeof(path), "/proc/sysvipc/%s", name);
        json_key(name);
        data = read_file(path, NULL);
        if (!data) {
                json_string(NULL);
                return;
        }
        json_open('[');
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                long long key, id;

                if (lineno++ < 1)
                        continue;
                if (sscanf(line, "%lld %lld", &key, &id) != 2)
                        continue;
                json_open('{');
                json_key("key");
                json_int(key);
                json_key("id");
                json_int(id);
                json_close('}');
        }
        json_close(']');
        free(data);
}

static int cmd_sysvipc(void)
{
        json_open('{');
        emit_sysvipc("shm");
        emit_sysvipc("msg");
        emit_sysvipc("sem");
        json_close('}');
        return json_finish(0);
}

static int cmd_ls(const char *path)
{
        size_t n = 0, cap = 64;
        char **names = malloc(cap * sizeof(char *));
        struct dirent *de;
        DIR *d;

        if (!names)
                return report_errno("ls", path, ENOMEM);
        d = opendir(path);
        if (!d) {
                int err = errno;

                free(names);
                return report_errno("opendir", path, err);
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap) {
                        char **bigger = realloc(names, cap * 2 * sizeof(char *));

                        if (!bigger)
                                abort();
                        names = bigger;
                        cap *= 2;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        abort();
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), compare_strings);
        json_open('{');
        json_key("ok");
        json_bool(true);
        json_key("path");
        json_string(path);
        json_key("entries");
        json_open('[');
        for (size_t i = 0; i < n; i++) {
                json_string(names[i]);
                free(names[i]);
        }
        json_close(']');
        json_close('}');
        free(names);
        return json_finish(0);
}

static int cmd_cat(const char *path)
{
        size_t len;
        char *data = read_file(path, &len);

        if (!data)
                return report_errno("read", path, errno);
        json_open('{');
        json_key("ok");
        json_bool(true);
        json_key("path");
        json_string(path);
        json_key("size");
        json_int((long long)len);
        json_key("data");
        json_string(data);
        json_close('}');
        free(data);
        return json_finish(0);
}

static int cmd_write(const char *path, const char *data)
{
        size_t len = strlen(data), done = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return report_errno("open", path, errno);
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);

                if (n < 0) {
                        int err = errno;

                        if (err == EINTR)
                                continue;
                        close(fd);
                        return report_errno("write", path, err);
                }
                done += (size_t)n;
        }
        if (close(fd) < 0)
                return report_errno("close", path, errno);
        json_open('{');
        json_key("ok");
        json_bool(true);
        json_key("path");
        json_string(path);
        json_key("size");
        json_int((long long)len);
        json_close('}');
        return json_finish(0);
}

static int cmd_open(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC), err = errno;

        json_open('{');
        json_key("ok");
        json_bool(fd >= 0);
        json_key("path");
        json_string(path);
        json_key("errno");
        json_int(fd >= 0 ? 0 : err);
        json_close('}');
        if (fd >= 0)
                close(fd);
        return json_finish(0);
}

static const char *file_type_name(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG:
                return "file";
        case S_IFDIR:
                return "directory";
        case S_IFLNK:
                return "symlink";
        case S_IFCHR:
                return "char";
        case S_IFBLK:
                return "block";
        case S_IFIFO:
                return "fifo";
        case S_IFSOCK:
                return "socket";
        default:
                return "unknown";
        }
}

static int cmd_stat(const char *path)
{
        struct stat st;
        char mode[8];

        if (stat(path, &st) < 0) {
                int err = errno;

                json_open('{');
                json_key("ok");
                json_bool(false);
                json_key("path");
                json_string(path);
                json_key("errno");
                json_int(err);
                json_close('}');
                return json_finish(0);
        }
        snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
        json_open('{');
        json_key("ok");
        json_bool(true);
        json_key("path");
        json_string(path);
        json_key("errno");
        json_int(0);
        json_key("type");
        json_string(file_type_name(st.st_mode));
        json_key("mode");
        json_string(mode);
        json_key("uid");
        json_int(st.st_uid);
        json_key("gid");
        json_int(st.st_gid);
        json_key("size");
        json_int((long long)st.st_size);
        json_key("ino");
        json_int((long long)st.st_ino);
        json_key("dev");
        json_int((long long)st.st_dev);
        json_key("rdev");
        json_int((long long)st.st_rdev);
        json_key("nlink");
        json_int((long long)st.st_nlink);
        json_close('}');
        return json_finish(0);
}

/* What the process's stdio is: a terminal (and which), its size, and whether it is the controlling
 * terminal of the process's session. */
static int cmd_tty(void)
{
        struct winsize ws;
        int fd;

        json_open('{');
        json_key("stdio");
        json_open('[');
        for (int i = 0; i < 3; i++) {
                const char *name;

                json_open('{');
                json_key("fd");
                json_int(i);
                json_key("isatty");
                json_bool(isatty(i) == 1);
                name = ttyname(i);
                json_key("ttyname");
                json_string(name);
                json_close('}');
        }
        json_close(']');
        json_key("rows");
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                json_int(ws.ws_row);
                json_key("cols");
                json_int(ws.ws_col);
        } else {
                json_string(NULL);
                json_key("cols");
                json_string(NULL);
        }
        /* /dev/tty opens only for a process with a controlling terminal. */
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        json_key("controlling");
        json_bool(fd >= 0);
        if (fd >= 0)
                close(fd);
        json_key("foreground");
        json_bool(tcgetpgrp(STDIN_FILENO) == getpgrp());
        json_key("session_leader");
        json_bool(getsid(0) == getpid());
        json_close('}');
        return json_finish(0);
}

/* Every open fd with what it refers to; for a regular file also its first bytes (read with pread,
 * so the offset is left alone). The directory stream used to list them is left out. */
static int cmd_fds(void)
{
        struct dirent *de;
        long fds[1024];
        size_t n = 0;
        DIR *d;

        d = opendir("/proc/self/fd");
        if (!d)
                return report_errno("opendir", "/proc/self/fd", errno);
        while ((de = readdir(d)) && n < sizeof(fds) / sizeof(fds[0])) {
                long v;

                if (parse_long(de->d_name, &v) && v != dirfd(d))
                        fds[n++] = v;
        }
        closedir(d);
        qsort(fds, n, sizeof(long), compare_ints);
        json_open('[');
        for (size_t i = 0; i < n; i++) {
                char path[64], target[PATH_MAX], data[65];
                struct stat st;
                ssize_t k;

                snprintf(path, sizeof(path), "/proc/self/fd/%ld", fds[i]);
                json_open('{');
                json_key("fd");
                json_int(fds[i]);
                k = readlink(path, target, sizeof(target) - 1);
                json_key("target");
                if (k >= 0) {
                        target[k] = '\0';
                        json_string(target);
                } else
                        json_string(NULL);
                if (fstat((int)fds[i], &st) == 0) {
                        json_key("type");
                        json_string(file_type_name(st.st_mode));
                        if (S_ISREG(st.st_mode)) {
                                k = pread((int)fds[i], data, sizeof(data) - 1, 0);
                                json_key("data");
                                if (k >= 0) {
                                        data[k] = '\0';
                                        json_string(data);
                                } else
                                        json_string(NULL);
                        }
                }
                json_close('}');
        }
        json_close(']');
        return json_finish(0);
}

/* The clocks a time namespace offsets, in whole seconds. */
static int cmd_clocks(void)
{
        static const struct {
                const char *name;
                clockid_t id;
        } clocks[] = {
                {"monotonic", CLOCK_MONOTONIC}, {"boottime", CLOCK_BOOTTIME}, {"realtime", CLOCK_REALTIME}};

        json_open('{');
        for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
                struct timespec ts;

                json_key(clocks[i].name);
                if (clock_gettime(clocks[i].id, &ts) == 0)
                        json_int((long long)ts.tv_sec);
                else
                        json_string(NULL);
        }
        json_close('}');
        return json_finish(0);
}

static int cmd_sleep(const char *arg)
{
        long seconds;
        struct timespec ts;

        if (!parse_long(arg, &seconds) || seconds < 0)
                return usage();
        ts.tv_sec = seconds;
        ts.tv_nsec = 0;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}

static volatile sig_atomic_t got_sigterm;

static void on_sigterm(int sig)
{
        got_sigterm = 1;
}

/* Waits for SIGTERM and exits 0 on it. As pid 1 of a pid namespace a process ignores TERM unless it
 * has a handler, so this is the process to use when a test stops a container gracefully. The
 * handler is installed before anything else; tests wait for it via SigCgt in /proc/PID/status. */
static int cmd_signal_exit(void)
{
        struct sigaction sa = {.sa_handler = on_sigterm};
        sigset_t mask, old;

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0)
                return report_errno("sigaction", "SIGTERM", errno);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, &old);
        while (!got_sigterm)
                sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
        json_open('{');
        json_key("signal");
        json_string("SIGTERM");
        json_close('}');
        return json_finish(0);
}

/* "64M", "1G", "4096": a byte count with an optional binary K/M/G suffix. */
static bool parse_size(const char *s, unsigned long long *ret)
{
        unsigned long long v, mult = 1;
        char *end = NULL;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *s == '-')
                return false;
        switch (*end) {
        case 'K':
        case 'k':
                mult = 1ULL << 10;
                end++;
                break;
        case 'M':
        case 'm':
                mult = 1ULL << 20;
                end++;
                break;
        case 'G':
        case 'g':
                mult = 1ULL << 30;
                end++;
                break;
        }
        if (*end != '\0' || v > ULLONG_MAX / mult)
                return false;
        *ret = v * mult;
        return true;
}

static void sleep_seconds(long seconds)
{
        struct timespec ts = {.tv_sec = seconds};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* The chunks hog allocated, chained through their first bytes: reachable, so the compiler cannot
 * drop the allocations as dead. */
static void *volatile hog_chunks;

/* Allocates BYTES in 1 MiB steps and touches every byte, printing "hog: N MiB" on stderr after
 * each step; then reports {"ok":true,"bytes":N} and, with HOLD, keeps the memory that many
 * seconds. Over a memory limit, the OOM killer ends it somewhere on the way. */
static int cmd_hog(const char *size_arg, const char *hold_arg)
{
        const unsigned long long step = 1ULL << 20;
        unsigned long long want, done = 0;
        long hold = 0;

        if (!parse_size(size_arg, &want) || (hold_arg && (!parse_long(hold_arg, &hold) || hold < 0)))
                return usage();
        while (done < want) {
                size_t n = (size_t)(want - done < step ? want - done : step);
                char *p = malloc(n < sizeof(void *) ? sizeof(void *) : n);

                if (!p)
                        return report_errno("malloc", NULL, ENOMEM);
                memset(p, 0xa5, n);
                *(void **)p = hog_chunks;
                hog_chunks = p;
                done += n;
                fprintf(stderr, "hog: %llu MiB\n", done >> 20);
        }
        json_open('{');
        json_key("ok");
        json_bool(true);
        json_key("bytes");
        json_int((long long)done);
        json_close('}');
        if (json_finish(0) != 0)
                return 1;
        sleep_seconds(hold);
        return 0;
}

/* Forks children that just wait, until fork fails (or a safety bound of 1024 is reached), and
 * reports {"forked":N,"errno":E,"error":"..."}; then sleeps HOLD seconds (default an hour), the
 * children with it. Under pids.max, fork fails with EAGAIN once the cgroup is full. */
static int cmd_forkbomb(const char *hold_arg)
{
        long forked = 0, hold = 3600;
        int err = 0;

        if (hold_arg && (!parse_long(hold_arg, &hold) || hold < 0))
                return usage();
        fflush(NULL); /* nothing buffered may be written twice */
        while (forked < 1024) {
                pid_t pid = fork();

                if (pid < 0) {
                        err = errno;
                        if (err == EINTR)
                                continue;
                        break;
                }
                if (pid == 0)
                        for (;;)
                                pause();
                forked++;
        }
        json_open('{');
        json_key("forked");
        json_int(forked);
        json_key("errno");
        json_int(err);
        json_key("error");
        json_string(strerror(err));
        json_close('}');
        if (json_finish(0) != 0)
                return 1;
        sleep_seconds(hold);
        return 0;
}

static double monotonic_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns CPU in a busy loop for SECONDS of wall-clock time. */
static int cmd_spin(const char *arg)
{
        volatile unsigned long long spins = 0;
        double end;
        long seconds;

        if (!parse_long(arg, &seconds) || seconds < 0)
                return usage();
        end = monotonic_seconds() + (double)seconds;
        while (monotonic_seconds() < end)
                for (int i = 0; i < 100000; i++)
                        spins++;
        return 0;
}

/* mknod PATH c|b MAJOR MINOR, mode 0666: {"ok":...,"path":...,"errno":N}. */
static int cmd_mknod(const char *path, const char *type, const char *major_arg, const char *minor_arg)
{
        long major, minor;
        mode_t mode;
        int r, err;

        if (strcmp(type, "c") == 0)
                mode = S_IFCHR;
        else if (strcmp(type, "b") == 0)
                mode = S_IFBLK;
        else
                return usage();
        if (!parse_long(major_arg, &major) || !parse_long(minor_arg, &minor) || major < 0 || minor < 0)
                return usage();
        r = mknod(path, mode | 0666, makedev((unsigned)major, (unsigned)minor));
        err = errno;
        json_open('{');
        json_key("ok");
        json_bool(r == 0);
        json_key("path");
        json_string(path);
        json_key("errno");
        json_int(r == 0 ? 0 : err);
        json_close('}');
        return json_finish(0);
}

/* Every 10 ms, writes the next number ("1\n", "2\n", ...) to FILE, through FILE.tmp and a rename
 * so a reader never sees a half-written one; runs until killed. Tests watch it from the host to
 * see whether the process is making progress (a frozen one is not). */
static int cmd_counter(const char *path)
{
        char tmp[PATH_MAX], buf[32];
        unsigned long long n = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
                return report_errno("counter", path, ENAMETOOLONG);
        for (;;) {
                struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
                int fd, len;

                len = snprintf(buf, sizeof(buf), "%llu\n", ++n);
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return report_errno("open", tmp, errno);
                if (write(fd, buf, (size_t)len) != len) {
                        int err = errno;

                        close(fd);
                        return report_errno("write", tmp, err);
                }
                close(fd);
                if (rename(tmp, path) < 0)
                        return report_errno("rename", path, errno);
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
}

/* statfs PATH: {"ok":...,"path":...,"type":F_TYPE,"errno":N}; tells a real procfs from a fake one. */
static int cmd_statfs(const char *path)
{
        struct statfs sf;
        int r = statfs(path, &sf), err = errno;

        json_open('{');
        json_key("ok");
        json_bool(r == 0);
        json_key("path");
        json_string(path);
        json_key("type");
        json_int(r == 0 ? (long long)sf.f_type : 0);
        json_key("errno");
        json_int(r == 0 ? 0 : err);
        json_close('}');
        return json_finish(0);
}

/* One attempt of `peek`: {"ok":...,"errno":N}, under @key. */
static void emit_attempt(const char *key, bool ok, int err)
{
        json_key(key);
        json_open('{');
        json_key("ok");
        json_bool(ok);
        json_key("errno");
        json_int(ok ? 0 : err);
        json_close('}');
}

/* peek PID: what a container process can learn about or do to PID (CVE-2016-9962): list its fds,
 * read its links, environment and memory, and ptrace it. Each attempt is reported, none is fatal. */
static int cmd_peek(const char *pid_arg)
{
        static const char *const links[] = {"exe", "cwd", "root"};
        char path[64], buf[256];
        long pid;
        bool ok;
        int fd;
        DIR *d;

        if (!parse_long(pid_arg, &pid) || pid <= 0)
                return usage();
        json_open('{');
        /* Listing the fd numbers is allowed to root; what they lead to is what must stay hidden. */
        snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
        d = opendir(path);
        ok = false;
        if (d) {
                struct dirent *de;

                errno = ENOENT;
                while (!ok && (de = readdir(d))) {
                        char link[300];

                        if (!isdigit((unsigned char)de->d_name[0]))
                                continue;
                        snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
                        ok = readlink(link, buf, sizeof(buf)) >= 0;
                }
                closedir(d);
        }
        emit_attempt("fd", ok, errno);
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
                snprintf(path, sizeof(path), "/proc/%ld/%s", pid, links[i]);
                emit_attempt(links[i], readlink(path, buf, sizeof(buf)) >= 0, errno);
        }
        snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ok = fd >= 0 && read(fd, buf, sizeof(buf)) > 0;
        emit_attempt("environ", ok, errno);
        if (fd >= 0)
                close(fd);
        snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        emit_attempt("mem", fd >= 0, errno);
        if (fd >= 0)
                close(fd);
        /* SEIZE does not stop the tracee; our exit detaches it again. */
        ok = ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) == 0;
        emit_attempt("ptrace", ok, errno);
        if (ok)
                ptrace(PTRACE_DETACH, (pid_t)pid, NULL, NULL);
        json_close('}');
        return json_finish(0);
}

#define SNOOP_MAX 512

/* What `snoop` got hold of: executables of other processes (by O_PATH fd) and fds of others. */
static struct {
        int fd;
        long pid;
        dev_t dev;
        ino_t ino;
        bool written;
        char target[256];
} snoop_exes[SNOOP_MAX];
static size_t n_snoop_exes;
static struct {
        long pid, fd;
        char target[256];
} snoop_fds[SNOOP_MAX];
static size_t n_snoop_fds;
static long snoop_pids[4096];
static size_t n_snoop_pids;

static bool snoop_seen_pid(long pid)
{
        for (size_t i = 0; i < n_snoop_pids; i++)
                if (snoop_pids[i] == pid)
                        return true;
        if (n_snoop_pids < sizeof(snoop_pids) / sizeof(snoop_pids[0]))
                snoop_pids[n_snoop_pids++] = pid;
        return false;
}

/* Opens /proc/PID/exe with O_PATH: that works while PID runs and is dumpable (or we may ptrace
 * it), and the fd outlives PID. The container's own binaries (@own) are left alone. */
static void snoop_exe(long pid, const struct stat *own, size_t n_own)
{
        char path[64];
        struct stat st;
        int fd;

        snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return;
        if (fstat(fd, &st) < 0 || n_snoop_exes == SNOOP_MAX)
                goto skip;
        for (size_t i = 0; i < n_own; i++)
                if (st.st_dev == own[i].st_dev && st.st_ino == own[i].st_ino)
                        goto skip;
        for (size_t i = 0; i < n_snoop_exes; i++)
                if (st.st_dev == snoop_exes[i].dev && st.st_ino == snoop_exes[i].ino)
                        goto skip;
        snoop_exes[n_snoop_exes].fd = fd;
        snoop_exes[n_snoop_exes].pid = pid;
        snoop_exes[n_snoop_exes].dev = st.st_dev;
        snoop_exes[n_snoop_exes].ino = st.st_ino;
        if (readlink(path, snoop_exes[n_snoop_exes].target, sizeof(snoop_exes[0].target) - 1) < 0)
                strcpy(snoop_exes[n_snoop_exes].target, "?");
        n_snoop_exes++;
        return;
skip:
        close(fd);
}

/* Records every fd above 2 of PID that we may see (CVE-2016-9962, CVE-2024-21626). */
static void snoop_fds_of(long pid)
{
        char path[64], link[300];
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
        d = opendir(path);
        if (!d)
                return;
        while ((de = readdir(d)) && n_snoop_fds < SNOOP_MAX) {
                bool known = false;
                long fd;
                ssize_t k;

                if (!parse_long(de->d_name, &fd) || fd <= 2)
                        continue;
                for (size_t i = 0; i < n_snoop_fds; i++)
                        known = known || (snoop_fds[i].pid == pid && snoop_fds[i].fd == fd);
                if (known)
                        continue;
                snprintf(link, sizeof(link), "%s/%ld", path, fd);
                k = readlink(link, snoop_fds[n_snoop_fds].target, sizeof(snoop_fds[0].target) - 1);
                if (k < 0)
                        continue;
                snoop_fds[n_snoop_fds].target[k] = '\0';
                snoop_fds[n_snoop_fds].pid = pid;
                snoop_fds[n_snoop_fds].fd = fd;
                n_snoop_fds++;
        }
        closedir(d);
}

/* Tries to reopen each executable we hold for writing and to overwrite its first bytes: what
 * CVE-2019-5736 did to runc. Fails with ETXTBSY while anything still runs it; retried. */
static void snoop_write_exes(void)
{
        static const char payload[] = "#!/bin/sh\necho overwritten by a container\n";

        for (size_t i = 0; i < n_snoop_exes; i++) {
                char path[64];
                int fd;

                if (snoop_exes[i].written)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%d", snoop_exes[i].fd);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (pwrite(fd, payload, sizeof(payload) - 1, 0) > 0)
                        snoop_exes[i].written = true;
                close(fd);
        }
}

/* snoop DIR SECONDS: until DIR/stop exists (or SECONDS pass), watches every other process in
 * sight, grabs the executables and fds of those it may, and tries to overwrite the executables;
 * creates DIR/grabbed once it holds one. Then reports
 * {"pids_seen":N,"exes":[...],"written":[...],"fds":[...]}. */
static int cmd_snoop(const char *dir, const char *seconds_arg)
{
        static const char *const own_paths[] = {"/proc/self/exe", "/bin/busybox"};
        char stopfile[PATH_MAX], grabbed[PATH_MAX];
        struct stat own[2];
        size_t n_own = 0;
        long seconds;
        double end;

        if (!parse_long(seconds_arg, &seconds) || seconds < 0)
                return usage();
        snprintf(stopfile, sizeof(stopfile), "%s/stop", dir);
        snprintf(grabbed, sizeof(grabbed), "%s/grabbed", dir);
        for (size_t i = 0; i < 2; i++)
                if (stat(own_paths[i], &own[n_own]) == 0)
                        n_own++;
        end = monotonic_seconds() + (double)seconds;
        while (access(stopfile, F_OK) < 0 && monotonic_seconds() < end) {
                size_t had = n_snoop_exes;
                struct dirent *de;
                DIR *d = opendir("/proc");

                if (!d)
                        return report_errno("opendir", "/proc", errno);
                while ((de = readdir(d))) {
                        long pid;

                        if (!parse_long(de->d_name, &pid) || pid == getpid())
                                continue;
                        snoop_seen_pid(pid);
                        snoop_exe(pid, own, n_own);
                        snoop_fds_of(pid);
                }
                closedir(d);
                if (had == 0 && n_snoop_exes > 0) {
                        int fd = open(grabbed, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                        if (fd >= 0)
                                close(fd);
                }
                snoop_write_exes();
        }
        snoop_write_exes();
        json_open('{');
        json_key("pids_seen");
        json_int((long long)n_snoop_pids);
        json_key("exes");
        json_open('[');
        for (size_t i = 0; i < n_snoop_exes; i++)
                json_string(snoop_exes[i].target);
        json_close(']');
        json_key("written");
        json_open('[');
        for (size_t i = 0; i < n_snoop_exes; i++)
                if (snoop_exes[i].written)
                        json_string(snoop_exes[i].target);
        json_close(']');
        json_key("fds");
        json_open('[');
        for (size_t i = 0; i < n_snoop_fds; i++) {
                json_open('{');
                json_key("pid");
                json_int(snoop_fds[i].pid);
                json_key("fd");
                json_int(snoop_fds[i].fd);
                json_key("target");
                json_string(snoop_fds[i].target);
                json_close('}');
        }
        json_close(']');
        json_close('}');
        return json_finish(0);
}

/*
 * syscall NAME [ARG...]: one raw system call, so a seccomp filter sees exactly what the test
 * asked for: {"name":...,"ret":N,"errno":N}. An argument is a number (decimal, 0x hex, 0 octal,
 * negative ones such as AT_FDCWD = -100 too), "@buf" for a 4 KiB buffer, or else a string
 * passed by address.
 */
static int cmd_syscall(int argc, char **argv)
{
        static const struct {
                const char *name;
                long nr;
        } calls[] = {
                {"getpid", SYS_getpid}, {"getppid", SYS_getppid},         {"getuid", SYS_getuid},
                {"uname", SYS_uname},   {"personality", SYS_personality}, {"umask", SYS_umask},
                {"getcwd", SYS_getcwd}, {"mkdirat", SYS_mkdirat},         {"fchmodat", SYS_fchmodat},
#ifdef SYS_mkdir
                {"mkdir", SYS_mkdir},
#endif
#ifdef SYS_chmod
                {"chmod", SYS_chmod},
#endif
        };
        static char buf[4096];
        long args[6] = {0};
        size_t i;

        for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
                if (strcmp(calls[i].name, argv[0]) == 0)
                        break;
        if (i == sizeof(calls) / sizeof(calls[0]) || argc > 7)
                return usage();
        for (int a = 1; a < argc; a++) {
                char *end = NULL;
                long long v;

                errno = 0;
                v = argv[a][0] == '-' ? strtoll(argv[a], &end, 0) : (long long)strtoull(argv[a], &end, 0);
                if (errno == 0 && end != argv[a] && *end == '\0')
                        args[a - 1] = (long)v;
                else if (strcmp(argv[a], "@buf") == 0)
                        args[a - 1] = (long)buf;
                else
                        args[a - 1] = (long)argv[a];
        }
        errno = 0;
        long ret = syscall(calls[i].nr, args[0], args[1], args[2], args[3], args[4], args[5]);
        int err = ret < 0 ? errno : 0;

        json_open('{');
        json_key("name");
        json_string(argv[0]);
        json_key("ret");
        json_int(ret);
        json_key("errno");
        json_int(err);
        json_close('}');
        return json_finish(ret < 0 ? 1 : 0);
}

int main(int argc, char *argv[])
{
        const char *cmd;

        if (argc < 2)
                return usage();
        cmd = argv[1];

        if (strcmp(cmd, "info") == 0 && argc == 2)
                return cmd_info();
        if (strcmp(cmd, "mounts") == 0 && argc == 2)
                return cmd_lines("/proc/self/mountinfo");
        if (strcmp(cmd, "pids") == 0 && argc == 2)
                return cmd_pids();
        if (strcmp(cmd, "netifs") == 0 && argc == 2)
                return cmd_netifs();
        if (strcmp(cmd, "sysvipc") == 0 && argc == 2)
                return cmd_sysvipc();
        if (strcmp(cmd, "tty") == 0 && argc == 2)
                return cmd_tty();
        if (strcmp(cmd, "fds") == 0 && argc == 2)
                return cmd_fds();
        if (strcmp(cmd, "clocks") == 0 && argc == 2)
                return cmd_clocks();
        if (strcmp(cmd, "ls") == 0 && argc == 3)
                return cmd_ls(argv[2]);
        if (strcmp(cmd, "cat") == 0 && argc == 3)
                return cmd_cat(argv[2]);
        if (strcmp(cmd, "write") == 0 && argc == 4)
                return cmd_write(argv[2], argv[3]);
        if (strcmp(cmd, "open") == 0 && argc == 3)
                return cmd_open(argv[2]);
        if (strcmp(cmd, "stat") == 0 && argc == 3)
                return cmd_stat(argv[2]);
        if (strcmp(cmd, "exit") == 0 && argc == 3) {
                long code;

                if (!parse_long(argv[2], &code) || code < 0 || code > 255)
                        return usage();
                return (int)code;
        }
        if (strcmp(cmd, "sleep") == 0 && argc == 3)
                return cmd_sleep(argv[2]);
        if (strcmp(cmd, "signal-exit") == 0 && argc == 2)
                return cmd_signal_exit();
        if (strcmp(cmd, "hog") == 0 && (argc == 3 || argc == 4))
                return cmd_hog(argv[2], argc == 4 ? argv[3] : NULL);
        if (strcmp(cmd, "forkbomb") == 0 && (argc == 2 || argc == 3))
                return cmd_forkbomb(argc == 3 ? argv[2] : NULL);
        if (strcmp(cmd, "spin") == 0 && argc == 3)
                return cmd_spin(argv[2]);
        if (strcmp(cmd, "mknod") == 0 && argc == 6)
                return cmd_mknod(argv[2], argv[3], argv[4], argv[5]);
        if (strcmp(cmd, "counter") == 0 && argc == 3)
                return cmd_counter(argv[2]);
        if (strcmp(cmd, "statfs") == 0 && argc == 3)
                return cmd_statfs(argv[2]);
        if (strcmp(cmd, "peek") == 0 && argc == 3)
                return cmd_peek(argv[2]);
        if (strcmp(cmd, "snoop") == 0 && argc == 4)
                return cmd_snoop(argv[2], argv[3]);
        if (strcmp(cmd, "syscall") == 0 && argc >= 3)
                return cmd_syscall(argc - 2, argv + 2);
        return usage();
}
