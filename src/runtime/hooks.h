/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/error.h"
#include "oci/config.h"

/**
 * hooks_run() - run the hooks of @kind in order, each with @state_json on stdin,
 * its own args and env, and its timeout (SIGKILL when exceeded). A failure is reported
 * as "<kind> hook <path>: ...". For most kinds the first failure stops the list; a
 * failing poststart or poststop hook does not (the spec makes those warnings): the
 * rest still run, every failure is reported in @err (joined by "; "), and the first
 * failure's code is returned.
 */
int hooks_run(const OciConfig *c, HookKind kind, const char *state_json, BerthError *err);
