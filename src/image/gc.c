/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which blobs the names reach, and removing those nothing reaches. */

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "gc.h"

#define GC_JSON_MAX_BYTES (16U << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

void digest_set_done(DigestSet *set)
{
        free(set->items);
        *set = (DigestSet){};
}

bool digest_set_contains(const DigestSet *set, const Digest *d)
{
        for (size_t i = 0; i < set->n; i++)
                if (digest_equal(&set->items[i], d))
                        return true;
        return false;
}

/* 1 when added, 0 when already there. */
static int digest_set_add(DigestSet *set, const Digest *d)
{
        Digest *n;

        if (digest_set_contains(set, d))
                return 0;
        n = reallocarray(set->items, set->n + 1, sizeof(Digest));
        if (!n)
                return -ENOMEM;
        set->items = n;
        set->items[set->n++] = *d;
        return 1;
}

static int add_descriptor(DigestSet *set, json_object *desc, Digest *ret)
{
        json_object *dg;

        if (!json_object_object_get_ex(desc, "digest", &dg) ||
            json_object_get_type(dg) != json_type_string ||
            digest_parse(json_object_get_string(dg), ret, NULL) < 0)
                return 0; /* not ours to judge here; load and pull validated it */
        return digest_set_add(set, ret);
}

/* Walk one blob: when it is a manifest or an index, add (and walk) what it references. */
static int walk(Store *s, const Digest *d, DigestSet *set, unsigned depth, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_free_ char *path = NULL, *bytes = NULL;
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];
        json_object *v;
        Digest child;
        size_t len;
        int r;

        if (depth > 8)
                return error_setx(err, -ELOOP, "blob %s: indexes nested too deep", digest_format(d, buf));
        if (asprintf(&path, "%s/blobs/sha256/%s", store_root(s), digest_hex(d, hex)) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, GC_JSON_MAX_BYTES, &bytes, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(err, r, "read blob %s", digest_format(d, buf));
        j = json_tokener_parse(bytes);
        if (!j || json_object_get_type(j) != json_type_object)
                return error_setx(err, -EINVAL, "blob %s is not a JSON manifest", digest_format(d, buf));
        if (json_object_object_get_ex(j, "manifests", &v) && json_object_get_type(v) == json_type_array)
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        r = add_descriptor(set, json_object_array_get_idx(v, i), &child);
                        if (r > 0)
                                r = walk(s, &child, set, depth + 1, err);
                        if (r < 0)
                                return r;
                }
        if (json_object_object_get_ex(j, "config", &v)) {
                r = add_descriptor(set, v, &child);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(j, "layers", &v) && json_object_get_type(v) == json_type_array)
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        r = add_descriptor(set, json_object_array_get_idx(v, i), &child);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int image_gc_reachable(Store *s, const Digest *roots, size_t n_roots, DigestSet *set, BerthError *err)
{
        int r;

        for (size_t i = 0; i < n_roots; i++) {
                r = digest_set_add(set, &roots[i]);
                if (r > 0)
                        r = walk(s, &roots[i], set, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_gc_live(Store *s, DigestSet *ret, BerthError *err)
{
        _cleanup_(strv_freep) char **names = NULL;
        DigestSet set = {};
        int r;

        r = store_names_list(s, &names, err);
        if (r < 0)
                return r;
        STRV_FOREACH (n, names) {
                Digest d;

                r = store_name_get(s, *n, &d, err);
                if (r == -ENOENT)
                        continue; /* removed meanwhile */
                if (r >= 0)
                        r = image_gc_reachable(s, &d, 1, &set, err);
                if (r < 0) {
                        digest_set_done(&set);
                        return r;
                }
        }
        *ret = set;
        return 0;
}

int image_gc_remove_unreferenced(Store *s, const DigestSet *candidates, int64_t min_age_sec,
                                 uint64_t *ret_bytes, BerthError *err)
{
        _cleanup_(digest_set_done) DigestSet live = {};
        _cleanup_free_ Digest *all = NULL;
        const Digest *list;
        size_t n;
        uint64_t bytes = 0;
        int64_t now = (int64_t)time(NULL);
        int r, removed = 0;

        r = image_gc_live(s, &live, err);
        if (r < 0)
                return r;
        if (candidates) {
                list = candidates->items;
                n = candidates->n;
        } else {
                r = store_blobs_list(s, &all, &n, err);
                if (r < 0)
                        return r;
                list = all;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t size = 0;
                int64_t mtime;

                if (digest_set_contains(&live, &list[i]))
                        continue;
                r = store_blob_mtime(s, &list[i], &mtime, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return error_set(err, r, "stat blob");
                if (min_age_sec > 0 && now - mtime < min_age_sec)
                        continue;
                (void)store_blob_size(s, &list[i], &size, NULL);
                r = store_blob_remove(s, &list[i], NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        char buf[DIGEST_STRING_LEN + 1];

                        return error_set(err, r, "remove blob %s", digest_format(&list[i], buf));
                }
                removed++;
                bytes += size;
        }
        if (ret_bytes)
                *ret_bytes = bytes;
        return removed;
}
