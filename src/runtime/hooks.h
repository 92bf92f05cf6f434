/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/error.h"
#include "oci/config.h"

/**
 * hooks_run() - run the hooks of @kind in order, each with @state_json on stdin,
 * its own args and env, and its timeout (SIGKILL when exceeded). The first failure
 * stops the list and is returned as "<kind> hook <path>: ...".
 */
int hooks_run(const OciConfig *c, HookKind kind, const char *state_json, BerthError *err);
