/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Compiled seccomp programs, kept under the runtime's state root (--root, a tmpfs under /run) in
 * ".seccomp-cache/<fnv64 of the key>", each file holding the key, a NUL and the BPF program.
 * libseccomp takes ~10 ms of CPU to compile Docker's default profile (360 syscalls), and every
 * container of a Kubernetes node gets the same one: crun keeps such a cache too.
 *
 * The key is the whole input of the compilation as text (libseccomp version, native arch, the
 * plan with syscall numbers), compared byte for byte on a hit, so a hash collision is a miss,
 * never a wrong filter. The directory must be owned by us and writable by nobody else; anything
 * unexpected (a short file, another key, no room) is a miss and the caller compiles.
 */

#include <stddef.h>

struct sock_filter;

#define SECCOMP_CACHE_DIR         ".seccomp-cache"
#define SECCOMP_CACHE_MAX_ENTRIES 64 /* beyond this, new programs are not kept */

/**
 * seccomp_cache_get() - the program cached for @key under @root_fd: 1 with a new array in *@ret
 * (n instructions in *@ret_n) the caller frees; 0 when there is none (or it could not be read).
 */
int seccomp_cache_get(int root_fd, const char *key, struct sock_filter **ret, size_t *ret_n);

/**
 * seccomp_cache_put() - keep @prog (@n instructions) for @key under @root_fd, atomically. Best
 * effort: a failure is logged at debug level and otherwise ignored.
 */
void seccomp_cache_put(int root_fd, const char *key, const struct sock_filter *prog, size_t n);
