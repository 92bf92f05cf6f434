/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/** signal_from_string() - "KILL", "SIGKILL", "9", "SIGRTMIN+3" -> number; -EINVAL if unknown. */
int signal_from_string(const char *s);
/** signal_to_string() - "SIGKILL" etc, or NULL. */
const char *signal_to_string(int sig);
