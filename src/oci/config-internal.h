/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared between the files of src/oci/ that together implement config.h.
 *
 * Parsers fill structures that their caller already owns and frees: arrays are
 * allocated zeroed with their count set at once, so that the owner's destructor
 * releases whatever was filled in before a failure.
 */

#include "config.h"
#include "json-walk.h"

static inline void *oci_mfree(void *p)
{
        free(p);
        return NULL;
}

/** oci_path_is_absolute() - starts with '/'. */
static inline bool oci_path_is_absolute(const char *p)
{
        return p && p[0] == '/';
}

/** oci_path_clean() - collapse "//" and "/./", drop a trailing '/'; ".." is kept. NULL on ENOMEM. */
char *oci_path_clean(const char *path);

/**
 * oci_parse_key_values() - a JSON object of string values, in document order.
 * Keys must not be empty. *@ret and *@ret_n are set before the entries are filled.
 */
int oci_parse_key_values(struct json_object *obj, const char *path, OciKeyValue **ret, size_t *ret_n,
                         BerthError *err);
void oci_key_values_free(OciKeyValue *kv, size_t n);

/** oci_parse_id() - a uid or gid: 0..4294967294 ((uid_t)-1 means "unchanged" to the kernel). */
int oci_parse_id(struct json_object *obj, const char *key, bool required, const char *parent, uint32_t *ret,
                 BerthError *err);

/* config-mounts.c */
int oci_config_parse_mounts(struct json_object *root, OciConfig *c, BerthError *err);
void oci_mounts_free(OciMount *m, size_t n);

/* config-linux.c */
int oci_config_parse_linux(struct json_object *obj, OciConfig *c, BerthError *err);
void oci_linux_done(OciLinux *l);
