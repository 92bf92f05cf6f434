/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "layers.h"
#include "unpack.h"

#define IMAGE_JSON_MAX (4U << 20) /* manifests and configs are small; refuse a huge one */

static inline void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}

void image_layers_done(ImageLayers *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_layers; i++) {
                free(l->layers[i].media_type);
                free(l->layers[i].dir);
        }
        free(l->layers);
        free(l->config_json);
        *l = (ImageLayers){};
}

int image_chain_id_next(const Digest *parent, const Digest *diff_id, Digest *ret)
{
        _cleanup_(hasher_freep) Hasher *h = NULL;
        char a[DIGEST_STRING_LEN + 1], b[DIGEST_STRING_LEN + 1];

        if (!parent) {
                *ret = *diff_id;
                return 0;
        }
        h = hasher_new();
        if (!h)
                return -ENOMEM;
        digest_format(parent, a);
        digest_format(diff_id, b);
        hasher_update(h, a, strlen(a));
        hasher_update(h, " ", 1);
        hasher_update(h, b, strlen(b));
        hasher_final(h, ret);
        return 0;
}

static int blob_read(Store *s, const Digest *d, char **ret, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        char hex[DIGEST_HEX_LEN + 1];
        struct stat st;
        ssize_t n;
        int r;

        r = store_blob_open(s, d, &fd, err);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "blob %s", digest_hex(d, hex));
        if ((uint64_t)st.st_size > IMAGE_JSON_MAX)
                return error_setx(err, -EBADMSG, "blob %s: %jd bytes, too large for JSON",
                                  digest_hex(d, hex), (intmax_t)st.st_size);
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, (size_t)st.st_size);
        if (n < 0)
                return error_set(err, (int)n, "read blob %s", digest_hex(d, hex));
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int json_parse_text(const char *text, const char *what, struct json_object **ret, BerthError *err)
{
        struct json_object *o = json_tokener_parse(text);

        if (!o || json_object_get_type(o) != json_type_object) {
                if (o)
                        json_object_put(o);
                return error_setx(err, -EBADMSG, "%s: not a JSON object", what);
        }
        *ret = o;
        return 0;
}

static int json_digest(struct json_object *o, const char *key, const char *what, Digest *ret,
                       BerthError *err)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) != json_type_string)
                return error_setx(err, -EBADMSG, "%s: no \"%s\"", what, key);
        return digest_parse(json_object_get_string(v), ret, err);
}

int image_layers_load(Store *s, const Digest *manifest, ImageLayers *ret, BerthError *err)
{
        _cleanup_(json_putp) struct json_object *m = NULL, *cfg = NULL;
        _cleanup_free_ char *mtext = NULL, *ctext = NULL;
        _cleanup_(image_layers_done) ImageLayers l = {};
        struct json_object *config, *layers, *rootfs, *diff_ids;
        Digest config_digest;
        int r;

        r = blob_read(s, manifest, &mtext, err);
        if (r < 0)
                return r;
        r = json_parse_text(mtext, "image manifest", &m, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(m, "config", &config) ||
            json_object_get_type(config) != json_type_object)
                return error_setx(err, -EBADMSG, "image manifest: no config descriptor");
        r = json_digest(config, "digest", "image manifest: config", &config_digest, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(m, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EBADMSG, "image manifest: no layers");
        r = blob_read(s, &config_digest, &ctext, err);
        if (r < 0)
                return r;
        r = json_parse_text(ctext, "image config", &cfg, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(cfg, "rootfs", &rootfs) ||
            !json_object_object_get_ex(rootfs, "diff_ids", &diff_ids) ||
            json_object_get_type(diff_ids) != json_type_array)
                return error_setx(err, -EBADMSG, "image config: no rootfs.diff_ids");
        size_t n = json_object_array_length(layers);
        if (n != json_object_array_length(diff_ids))
                return error_setx(err, -EBADMSG, "image config: %zu diff_ids for %zu layers",
                                  json_object_array_length(diff_ids), n);
        l.layers = calloc(n ? n : 1, sizeof(ImageLayer));
        if (!l.layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct json_object *desc = json_object_array_get_idx(layers, i), *mt,
                                   *did = json_object_array_get_idx(diff_ids, i);
                ImageLayer *layer = &l.layers[i];

                l.n_layers = i + 1;
                r = json_digest(desc, "digest", "image manifest: layer", &layer->blob, err);
                if (r < 0)
                        return r;
                if (!did || json_object_get_type(did) != json_type_string)
                        return error_setx(err, -EBADMSG, "image config: diff_id %zu is not a string", i);
                r = digest_parse(json_object_get_string(did), &layer->diff_id, err);
                if (r < 0)
                        return r;
                layer->media_type = strdup(json_object_object_get_ex(desc, "mediaType", &mt) &&
                                                           json_object_get_type(mt) == json_type_string
                                                   ? json_object_get_string(mt)
                                                   : "application/vnd.oci.image.layer.v1.tar");
                if (!layer->media_type)
                        return -ENOMEM;
                r = image_chain_id_next(i ? &l.layers[i - 1].chain_id : NULL, &layer->diff_id,
                                        &layer->chain_id);
                if (r < 0)
                        return r;
        }
        l.config_json = TAKE_PTR(ctext);
        *ret = l;
        l = (ImageLayers){};
        return 0;
}

static int layer_unpack_into(Store *s, const ImageLayer *layer, const char *dir, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1], want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
        LayerUnpackOptions o = {
                .compression = layer_compression_from_media_type(layer->media_type),
                .privileged = geteuid() == 0,
                .whiteouts = LAYER_WHITEOUTS_OVERLAY,
        };
        LayerUnpackResult res;
        int r;

        if (o.compression < 0)
                o.compression = LAYER_COMPRESSION_AUTO;
        r = store_blob_open(s, &layer->blob, &fd, err);
        if (r < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return error_set(err, negative_errno(), "open %s", dir);
        r = layer_unpack(fd, dfd, &o, &res, err);
        if (r < 0) {
                error_prefix(err, "layer %s: ", digest_hex(&layer->blob, hex));
                return r;
        }
        if (!digest_equal(&res.diff_id, &layer->diff_id))
                return error_setx(err, -EBADMSG, "layer %s: diff_id is %s, the image config says %s",
                                  digest_hex(&layer->blob, hex), digest_format(&res.diff_id, got),
                                  digest_format(&layer->diff_id, want));
        return 0;
}

static int layer_prepare(Store *s, const char *layers_dir, ImageLayer *layer, bool *ret_unpacked,
                         BerthError *err)
{
        _cleanup_free_ char *final = NULL, *tmp = NULL;
        char hex[DIGEST_HEX_LEN + 1];
        struct stat st;
        int r;

        digest_hex(&layer->chain_id, hex);
        if (asprintf(&final, "%s/%s", layers_dir, hex) < 0 ||
            asprintf(&tmp, "%s/.tmp-%s-XXXXXX", layers_dir, hex) < 0)
                return -ENOMEM;
        *ret_unpacked = false;
        if (stat(final, &st) == 0 && S_ISDIR(st.st_mode))
                goto done;
        if (!mkdtemp(tmp))
                return error_set(err, negative_errno(), "mkdtemp %s", tmp);
        /* The tree's root is the image's /: world-readable, like any rootfs. */
        r = chmod(tmp, 0755) < 0 ? negative_errno() : layer_unpack_into(s, layer, tmp, err);
        /* NOREPLACE: a plain rename would silently replace an (empty-layer) directory in use. */
        if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                r = negative_errno();
                if (r == -EEXIST)
                        r = 1; /* another unpack of this chain id won: keep its directory */
                else
                        error_set(err, r, "rename %s to %s", tmp, final);
        } else if (r >= 0)
                *ret_unpacked = true;
        if (r != 0)
                (void)rm_rf_at(AT_FDCWD, tmp);
        if (r < 0) {
                if (err && err->code == 0)
                        error_set(err, r, "unpack layer %s", hex);
                return r;
        }
done:
        layer->dir = TAKE_PTR(final);
        return 0;
}

int image_layers_prepare(Store *s, const char *storage_root, ImageLayers *l, BerthError *err)
{
        _cleanup_free_ char *layers_dir = NULL;
        int r;

        if (asprintf(&layers_dir, "%s/layers", storage_root) < 0)
                return -ENOMEM;
        r = mkdir_p(layers_dir, 0700);
        if (r < 0)
                return error_set(err, r, "mkdir %s", layers_dir);
        for (size_t i = 0; i < l->n_layers; i++) {
                bool unpacked;

                if (l->layers[i].dir)
                        continue;
                r = layer_prepare(s, layers_dir, &l->layers[i], &unpacked, err);
                if (r < 0)
                        return r;
                l->unpacked += unpacked;
        }
        return 0;
}
