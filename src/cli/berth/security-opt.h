/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `--security-opt` of berth run, Docker's spelling: KEY=VALUE or KEY:VALUE. */

#include "image/bundle.h"

/**
 * berth_security_opt_parse() - apply one --security-opt @opt to @o:
 *   seccomp=unconfined      no seccomp filter
 *   seccomp=builtin         Docker's default profile (what berth run does anyway)
 *   seccomp=FILE            a Docker- or OCI-format profile (JSON), read and checked now, so that
 *                           a bad file fails before anything is pulled or mounted
 *   no-new-privileges[=true] accepted: berth run always sets no_new_privs
 * @o->seccomp_profile points into @opt afterwards. A bad value prints one line
 * "berth: run: --security-opt ...: why" on stderr and returns -EINVAL (-ENOMEM too).
 */
int berth_security_opt_parse(const char *opt, BundleOptions *o);
