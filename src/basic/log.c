/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include "log.h"
#include "strbuf.h"

static struct {
        const char *program;
        int fd;
        LogFormat format;
        LogLevel max_level;
        bool to_stderr;
} log_state = {
        .program = "berth",
        .fd = -EBADF,
        .format = LOG_FORMAT_TEXT,
        .max_level = LOG_LEVEL_WARNING,
        .to_stderr = true,
};

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

LogFormat log_format_from_string(const char *s)
{
        if (streq(s, "text"))
                return LOG_FORMAT_TEXT;
        if (streq(s, "json"))
                return LOG_FORMAT_JSON;
        return _LOG_FORMAT_INVALID;
}

int log_setup(const char *program, const char *path, LogFormat format, bool debug)
{
        log_state.program = program;
        log_state.format = format;
        log_state.max_level = debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING;
        if (path && *path) {
                int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return negative_errno();
                log_state.fd = fd;
        }
        return 0;
}

void log_set_stderr(bool on)
{
        log_state.to_stderr = on;
}

bool log_debug_enabled(void)
{
        return log_state.max_level >= LOG_LEVEL_DEBUG;
}

int log_fd(void)
{
        return log_state.fd;
}

static void write_all(int fd, const char *s, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, s, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                s += k;
                n -= (size_t)k;
        }
}

static void log_write_file(LogLevel level, const char *msg)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        struct timespec ts;
        struct tm tm;
        char when[64];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

        if (log_state.format == LOG_FORMAT_JSON) {
                strbuf_puts(&b, "{\"level\":\"");
                strbuf_puts(&b, level_names[level]);
                strbuf_puts(&b, "\",\"msg\":");
                strbuf_put_json_string(&b, msg);
                strbuf_printf(&b, ",\"time\":\"%s.%09ldZ\"}\n", when, ts.tv_nsec);
        } else
                strbuf_printf(&b, "%s.%09ldZ %s: %s\n", when, ts.tv_nsec, level_names[level], msg);
        if (!strbuf_failed(&b))
                write_all(log_state.fd, b.ptr, b.len);
}

void log_full(LogLevel level, const char *fmt, ...)
{
        char msg[4096];
        va_list ap;
        int saved_errno = errno;

        if (level > log_state.max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (log_state.fd >= 0)
                log_write_file(level, msg);
        if (log_state.to_stderr) {
                char line[4200];
                int n = snprintf(line, sizeof(line), "%s: %s%s\n", log_state.program,
                                 level == LOG_LEVEL_ERROR     ? ""
                                 : level == LOG_LEVEL_WARNING ? "warning: "
                                                              : "",
                                 msg);
                if (n > 0)
                        write_all(STDERR_FILENO, line,
                                  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        }
        errno = saved_errno;
}
