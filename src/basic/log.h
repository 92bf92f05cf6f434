/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Logging for the edges (CLI verbs, the daemon). Messages go to stderr and, when
 * --log is given, to that file as text or as runc-style JSON lines
 * ({"level":"error","msg":"...","time":"..."}), which containerd's shim shows to users.
 */

#include <stdbool.h>

#include "macro.h"

typedef enum LogLevel {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
} LogLevel;

typedef enum LogFormat {
        LOG_FORMAT_TEXT,
        LOG_FORMAT_JSON,
        _LOG_FORMAT_MAX,
        _LOG_FORMAT_INVALID = -EINVAL,
} LogFormat;

LogFormat log_format_from_string(const char *s);

/** log_setup() - set program name, max level and optional log file (opened append, O_CLOEXEC). */
int log_setup(const char *program, const char *path, LogFormat format, bool debug);

/** log_to_stderr() - whether messages also go to stderr (default true). */
void log_set_stderr(bool on);

void log_full(LogLevel level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...)   log_full(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)    log_full(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_full(LOG_LEVEL_DEBUG, __VA_ARGS__)

bool log_debug_enabled(void);

/** log_fd() - the log file's fd or -EBADF, so forked children can keep reporting. */
int log_fd(void);
