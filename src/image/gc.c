/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which blobs the names reach, and removing those nothing reaches. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "gc.h"
#include "layers.h"

#define GC_JSON_MAX_BYTES       (16U << 20)
#define GC_CONTAINER_LAYERS_MAX (1U << 20) /* a container's "layers" file: 65 bytes a layer */

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

/* ---- unpacked layers ---- */

int image_gc_chain_ids(Store *s, const Digest *manifest, DigestSet *set, BerthError *err)
{
        _cleanup_(image_layers_done) ImageLayers l = {};
        int r;

        r = image_layers_load(s, manifest, &l, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n_layers; i++) {
                r = digest_set_add(set, &l.layers[i].chain_id);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The chain ids every named image uses. An image whose manifest or config cannot be read (a blob
 * missing) protects nothing here: its layers are found again, or unpacked again, when it is run. */
static int layers_of_names(Store *s, DigestSet *set, BerthError *err)
{
        _cleanup_(strv_freep) char **names = NULL;
        int r;

        r = store_names_list(s, &names, err);
        if (r < 0)
                return r;
        STRV_FOREACH (n, names) {
                Digest d;

                r = store_name_get(s, *n, &d, NULL);
                if (r == -ENOENT)
                        continue;
                if (r >= 0)
                        r = image_gc_chain_ids(s, &d, set, NULL);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* Adds the chain ids listed in @text (one hex digest a line) to @set. */
static int parse_container_layers(const char *text, DigestSet *set)
{
        for (const char *p = text; *p;) {
                const char *end = strchrnul(p, '\n');
                char buf[DIGEST_STRING_LEN + 1];
                Digest d;
                int r;

                if ((size_t)(end - p) == DIGEST_HEX_LEN) {
                        snprintf(buf, sizeof(buf), "sha256:%.*s", (int)DIGEST_HEX_LEN, p);
                        if (digest_parse(buf, &d, NULL) >= 0 && (r = digest_set_add(set, &d)) < 0)
                                return r;
                }
                p = *end ? end + 1 : end;
        }
        return 0;
}

/* The chain ids the containers use; 1 when some container does not say (keep everything). */
static int layers_of_containers(const char *root, DigestSet *set, BerthError *err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        if (asprintf(&path, "%s/containers", root) < 0)
                return -ENOMEM;
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : error_set(err, negative_errno(), "open %s", path);
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                _cleanup_free_ char *text = NULL, *file = NULL;
                size_t len;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&file, "%s/layers", de->d_name) < 0)
                        return -ENOMEM;
                r = read_full_file_at(dirfd(d), file, GC_CONTAINER_LAYERS_MAX, &text, &len);
                if (r == -ENOTDIR)
                        continue; /* not a container directory */
                if (r == -ENOENT)
                        return 1;
                if (r < 0)
                        return error_set(err, r, "read %s/%s", path, file);
                r = parse_container_layers(text, set);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? error_set(err, -errno, "read %s", path) : 0;
}

static bool is_hex_name(const char *s, size_t len)
{
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* Rename layers/@name out of the way, then remove it: a `berth run` that looks for it finds it
 * whole or not at all. */
static int layer_dir_remove(int dfd, const char *name, const char *layers_path, BerthError *err)
{
        char gone[sizeof(".gc-") + 64 + 24];
        int r;

        snprintf(gone, sizeof(gone), ".gc-%.64s-%d", name, (int)getpid());
        if (renameat(dfd, name, dfd, gone) < 0) {
                if (errno == ENOENT)
                        return 0;
                return error_set(err, negative_errno(), "rename %s/%s", layers_path, name);
        }
        r = rm_rf_at(dfd, gone);
        if (r < 0 && r != -ENOENT)
                return error_set(err, r, "remove %s/%s", layers_path, gone);
        return 1;
}

static bool tmp_is_stale(int dfd, const char *name, int64_t min_age_sec)
{
        struct stat st;
        int64_t now = (int64_t)time(NULL);

        if (min_age_sec <= 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        return now - (int64_t)st.st_mtim.tv_sec >= min_age_sec;
}

int image_gc_layers(Store *s, const DigestSet *candidates, int64_t tmp_min_age_sec, BerthError *err)
{
        _cleanup_(digest_set_done) DigestSet keep = {};
        _cleanup_free_ char *layers_path = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(strv_freep) char **victims = NULL;
        int r, removed = 0;

        if (asprintf(&layers_path, "%s/layers", store_root(s)) < 0)
                return -ENOMEM;
        d = opendir(layers_path);
        if (!d)
                return errno == ENOENT ? 0 : error_set(err, negative_errno(), "open %s", layers_path);
        r = layers_of_containers(store_root(s), &keep, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = layers_of_names(s, &keep, err);
        if (r < 0)
                return r;
        /* Names first, removal after: readdir() is not stable across renames in the directory. */
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                bool victim = false;

                if (is_hex_name(de->d_name, DIGEST_HEX_LEN)) {
                        char buf[DIGEST_STRING_LEN + 1];
                        Digest id;

                        snprintf(buf, sizeof(buf), "sha256:%s", de->d_name);
                        victim = digest_parse(buf, &id, NULL) >= 0 && !digest_set_contains(&keep, &id) &&
                                 (!candidates || digest_set_contains(candidates, &id));
                } else if (strncmp(de->d_name, ".gc-", 4) == 0)
                        victim = true; /* an interrupted GC's */
                else if (strncmp(de->d_name, ".tmp-", 5) == 0)
                        victim = tmp_is_stale(dirfd(d), de->d_name, tmp_min_age_sec);
                if (victim && (r = strv_extend(&victims, de->d_name)) < 0)
                        return r;
        }
        if (errno > 0)
                return error_set(err, -errno, "read %s", layers_path);
        STRV_FOREACH (v, victims) {
                if (**v == '.') {
                        r = rm_rf_at(dirfd(d), *v);
                        r = r == -ENOENT ? 0
                            : r < 0      ? error_set(err, r, "remove %s/%s", layers_path, *v)
                                         : 1;
                } else
                        r = layer_dir_remove(dirfd(d), *v, layers_path, err);
                if (r < 0)
                        return r;
                removed += r > 0 && **v != '.';
        }
        return removed;
}
