/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
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

int image_layers_parse(const char *manifest_json, const char *config_json, ImageLayers *ret, BerthError *err)
{
        _cleanup_(json_putp) struct json_object *m = NULL, *cfg = NULL;
        _cleanup_(image_layers_done) ImageLayers l = {};
        struct json_object *layers, *rootfs, *diff_ids;
        int r;

        r = json_parse_text(manifest_json, "image manifest", &m, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(m, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EBADMSG, "image manifest: no layers");
        r = json_parse_text(config_json, "image config", &cfg, err);
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
        l.config_json = strdup(config_json);
        if (!l.config_json)
                return -ENOMEM;
        *ret = l;
        l = (ImageLayers){};
        return 0;
}

int image_layers_load(Store *s, const Digest *manifest, ImageLayers *ret, BerthError *err)
{
        _cleanup_(json_putp) struct json_object *m = NULL;
        _cleanup_free_ char *mtext = NULL, *ctext = NULL;
        struct json_object *config;
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
        r = blob_read(s, &config_digest, &ctext, err);
        if (r < 0)
                return r;
        return image_layers_parse(mtext, ctext, ret, err);
}

static LayerUnpackOptions layer_unpack_options(const ImageLayer *layer)
{
        LayerUnpackOptions o = {
                .compression = layer_compression_from_media_type(layer->media_type),
                .privileged = geteuid() == 0,
                .whiteouts = LAYER_WHITEOUTS_OVERLAY,
        };

        if (o.compression < 0)
                o.compression = LAYER_COMPRESSION_AUTO;
        return o;
}

static int layer_check_diff_id(const ImageLayer *layer, const LayerUnpackResult *res, BerthError *err)
{
        char hex[DIGEST_HEX_LEN + 1], want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];

        if (!digest_equal(&res->diff_id, &layer->diff_id))
                return error_setx(err, -EBADMSG, "layer %s: diff_id is %s, the image config says %s",
                                  digest_hex(&layer->blob, hex), digest_format(&res->diff_id, got),
                                  digest_format(&layer->diff_id, want));
        return 0;
}

/* "<layers_dir>/<chainid-hex>" and a fresh, empty "<layers_dir>/.tmp-<chainid-hex>-XXXXXX" (0755:
 * the tree's root is the image's /, world-readable like any rootfs). */
static int layer_tmp_make(const char *layers_dir, const ImageLayer *layer, char **ret_final, char **ret_tmp,
                          BerthError *err)
{
        _cleanup_free_ char *final = NULL, *tmp = NULL;
        char hex[DIGEST_HEX_LEN + 1];

        digest_hex(&layer->chain_id, hex);
        if (asprintf(&final, "%s/%s", layers_dir, hex) < 0 ||
            asprintf(&tmp, "%s/.tmp-%s-XXXXXX", layers_dir, hex) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return error_set(err, negative_errno(), "mkdtemp %s", tmp);
        if (chmod(tmp, 0755) < 0) {
                int r = error_set(err, negative_errno(), "chmod %s", tmp);

                (void)rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        *ret_final = TAKE_PTR(final);
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

/* Rename @tmp to @final; 1 when another unpack of this chain id won (@tmp is then removed). */
static int layer_commit(const char *tmp, const char *final, BerthError *err)
{
        /* NOREPLACE: a plain rename would silently replace an (empty-layer) directory in use. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST) {
                        (void)rm_rf_at(AT_FDCWD, tmp);
                        return 1; /* keep the winner's directory */
                }
                return error_set(err, negative_errno(), "rename %s to %s", tmp, final);
        }
        return 0;
}

static bool layer_present(const char *final)
{
        struct stat st;

        return stat(final, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The unpacked layers below one, opened top first: its lowers for layer_unpack(). */
typedef struct LowerFds {
        int *fds;
        size_t n;
} LowerFds;

static void lower_fds_done(LowerFds *f)
{
        for (size_t i = 0; i < f->n; i++)
                safe_close(f->fds[i]);
        f->fds = mfree(f->fds);
        f->n = 0;
}

/* Open @dirs (@n of them, top first). */
static int lower_fds_open(const char *const *dirs, size_t n, LowerFds *ret, BerthError *err)
{
        _cleanup_(lower_fds_done) LowerFds f = {};

        f.fds = calloc(n ? n : 1, sizeof(int));
        if (!f.fds)
                return -ENOMEM;
        for (; f.n < n; f.n++) {
                f.fds[f.n] = open(dirs[f.n], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (f.fds[f.n] < 0)
                        return error_set(err, negative_errno(), "open lower layer %s", dirs[f.n]);
        }
        *ret = f;
        f = (LowerFds){};
        return 0;
}

/* The dirs of the layers below @l->layers[@i] (all prepared), top first, in *@ret (freed by the
 * caller; the strings are @l's). */
static int lower_dirs_of(const ImageLayers *l, size_t i, const char ***ret)
{
        const char **dirs = calloc(i ? i : 1, sizeof(char *));

        if (!dirs)
                return -ENOMEM;
        for (size_t k = 0; k < i; k++) {
                assert(l->layers[i - 1 - k].dir);
                dirs[k] = l->layers[i - 1 - k].dir;
        }
        *ret = dirs;
        return 0;
}

static int layer_unpack_into(Store *s, const ImageLayer *layer, const LowerFds *lowers, const char *dir,
                             BerthError *err)
{
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1];
        LayerUnpackOptions o = layer_unpack_options(layer);
        LayerUnpackResult res;
        int r;

        o.lower_fds = lowers->fds;
        o.n_lower_fds = lowers->n;
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
        return layer_check_diff_id(layer, &res, err);
}

/* Layer @i of @l, whose lowers are prepared: found in place, or unpacked on top of them. */
static int layer_prepare(Store *s, const char *layers_dir, ImageLayers *l, size_t i, bool *ret_unpacked,
                         BerthError *err)
{
        _cleanup_(lower_fds_done) LowerFds lowers = {};
        _cleanup_free_ const char **lower_dirs = NULL;
        _cleanup_free_ char *final = NULL, *tmp = NULL;
        ImageLayer *layer = &l->layers[i];
        char hex[DIGEST_HEX_LEN + 1];
        int r;

        *ret_unpacked = false;
        if (asprintf(&final, "%s/%s", layers_dir, digest_hex(&layer->chain_id, hex)) < 0)
                return -ENOMEM;
        if (!layer_present(final)) {
                final = mfree(final);
                r = lower_dirs_of(l, i, &lower_dirs);
                if (r < 0)
                        return r;
                r = lower_fds_open(lower_dirs, i, &lowers, err);
                if (r < 0)
                        return r;
                r = layer_tmp_make(layers_dir, layer, &final, &tmp, err);
                if (r < 0)
                        return r;
                r = layer_unpack_into(s, layer, &lowers, tmp, err);
                if (r >= 0)
                        r = layer_commit(tmp, final, err);
                else
                        (void)rm_rf_at(AT_FDCWD, tmp);
                if (r < 0) {
                        if (err && err->code == 0)
                                error_set(err, r, "unpack layer %s", hex);
                        return r;
                }
                *ret_unpacked = r == 0;
        }
        layer->dir = TAKE_PTR(final);
        return 0;
}

static int layer_stream_commit_at(ImageLayerStream *st, ImageLayers *l, size_t i, BerthError *err);

int image_layers_prepare_streamed(Store *s, const char *storage_root, ImageLayers *l,
                                  ImageLayerStream *const *streams, unsigned *ret_streamed, BerthError *err)
{
        _cleanup_free_ char *layers_dir = NULL;
        unsigned streamed = 0;
        int r;

        if (asprintf(&layers_dir, "%s/layers", storage_root) < 0)
                return -ENOMEM;
        r = mkdir_p(layers_dir, 0700);
        if (r < 0)
                return error_set(err, r, "mkdir %s", layers_dir);
        /* Bottom first: each layer's lowers are in place before it is unpacked or fixed up. */
        for (size_t i = 0; i < l->n_layers; i++) {
                bool unpacked;

                if (l->layers[i].dir)
                        continue;
                if (streams && streams[i]) {
                        r = layer_stream_commit_at(streams[i], l, i, err);
                        if (r < 0)
                                return r;
                        streamed += r == 0;
                        continue;
                }
                r = layer_prepare(s, layers_dir, l, i, &unpacked, err);
                if (r < 0)
                        return r;
                l->unpacked += unpacked;
        }
        if (ret_streamed)
                *ret_streamed = streamed;
        return 0;
}

int image_layers_prepare(Store *s, const char *storage_root, ImageLayers *l, BerthError *err)
{
        return image_layers_prepare_streamed(s, storage_root, l, NULL, NULL, err);
}

/* ---- unpacking while downloading ---- */

struct ImageLayerStream {
        ImageLayer layer; /* media_type and dir NULL: borrowed fields are not kept */
        LayerUnpackOptions options;
        char *final;
        char *tmp;
        int sock;  /* ours: blob bytes out, the child's result in */
        pid_t pid; /* the child, until reaped; 0 after */
        bool finished;
        uint64_t fed;         /* bytes sent to the child */
        char **implicit_dirs; /* from the child: to be made as the lowers made them, at commit */
};

/* What the child sends back once layer_unpack() has returned, followed by implicit_len bytes:
 * the implicit directories, each NUL-terminated (res.implicit_dirs is NULL in the report). */
typedef struct LayerStreamReport {
        int r;
        LayerUnpackResult res;
        BerthError err;
        uint64_t implicit_len;
} LayerStreamReport;

#define LAYER_STREAM_IMPLICIT_MAX (64U << 20)

/* close_range(), or one close() at a time on kernels before 5.9. */
static void close_fds(unsigned from, unsigned to)
{
        long max;

        if (from > to || close_range(from, to, 0) == 0)
                return;
        max = sysconf(_SC_OPEN_MAX);
        for (unsigned fd = from; fd <= to && (max < 0 || fd < (unsigned long)max); fd++)
                (void)close((int)fd);
}

/* Close every fd from 3 up, except the ones in @keep (sorted ascending). */
static void close_all_but(const int *keep, size_t n)
{
        unsigned from = 3;

        for (size_t i = 0; i < n; i++) {
                if ((unsigned)keep[i] > from)
                        close_fds(from, (unsigned)keep[i] - 1);
                from = MAX(from, (unsigned)keep[i] + 1);
        }
        close_fds(from, ~0U);
}

_noreturn_ static void layer_stream_child(int sock, const char *dir, const LayerUnpackOptions *o)
{
        LayerStreamReport rep = {};
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        int dfd, keep[2];

        /* Without this, a sibling child would hold another stream's socket open and that
         * stream would never see the end of its blob. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        keep[0] = MIN(sock, dfd < 0 ? sock : dfd);
        keep[1] = MAX(sock, dfd);
        close_all_but(keep, dfd < 0 ? 1 : 2);
        if (dfd < 0)
                rep.r = error_set(&rep.err, negative_errno(), "open %s", dir);
        else
                rep.r = layer_unpack(sock, dfd, o, &rep.res, &rep.err);
        if (rep.r >= 0) {
                STRV_FOREACH (p, rep.res.implicit_dirs)
                        len += strlen(*p) + 1;
                if (len > LAYER_STREAM_IMPLICIT_MAX)
                        rep.r = error_setx(&rep.err, -E2BIG, "layer: too many implicit directories");
                else if (len > 0 && !(list = malloc(len)))
                        rep.r = error_set(&rep.err, -ENOMEM, "layer");
                else {
                        size_t off = 0;

                        STRV_FOREACH (p, rep.res.implicit_dirs) {
                                size_t k = strlen(*p) + 1;

                                memcpy(list + off, *p, k);
                                off += k;
                        }
                        rep.implicit_len = len;
                }
                layer_unpack_result_done(&rep.res);
        }
        if (loop_write(sock, &rep, sizeof(rep)) >= 0 && rep.implicit_len > 0)
                (void)loop_write(sock, list, rep.implicit_len);
        _exit(0);
}

int image_layer_stream_begin(const char *storage_root, const ImageLayer *layer, ImageLayerStream **ret,
                             BerthError *err)
{
        _cleanup_(image_layer_stream_freep) ImageLayerStream *st = NULL;
        _cleanup_free_ char *layers_dir = NULL, *final = NULL;
        char hex[DIGEST_HEX_LEN + 1];
        int pair[2], r;

        *ret = NULL;
        if (asprintf(&layers_dir, "%s/layers", storage_root) < 0 ||
            asprintf(&final, "%s/%s", layers_dir, digest_hex(&layer->chain_id, hex)) < 0)
                return -ENOMEM;
        if (layer_present(final))
                return 1;
        r = mkdir_p(layers_dir, 0700);
        if (r < 0)
                return error_set(err, r, "mkdir %s", layers_dir);
        st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        st->sock = -EBADF;
        st->layer =
                (ImageLayer){.blob = layer->blob, .diff_id = layer->diff_id, .chain_id = layer->chain_id};
        st->options = layer_unpack_options(layer);
        /* The layers below may be downloading too: their directories are made right at commit. */
        st->options.list_implicit_dirs = true;
        /* The caller hashes what it feeds (image_layer_stream_finish()): one pass less here. */
        st->options.skip_blob_digest = true;
        r = layer_tmp_make(layers_dir, layer, &st->final, &st->tmp, err);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return error_set(err, negative_errno(), "socketpair");
        st->pid = fork();
        if (st->pid < 0) {
                st->pid = 0;
                safe_close(pair[0]);
                safe_close(pair[1]);
                return error_set(err, negative_errno(), "fork");
        }
        if (st->pid == 0)
                layer_stream_child(pair[1], st->tmp, &st->options);
        safe_close(pair[1]);
        st->sock = pair[0];
        *ret = TAKE_PTR(st);
        return 0;
}

/* The implicit directories after the report: @len bytes of NUL-terminated names. */
static int layer_stream_read_implicit(ImageLayerStream *st, uint64_t len)
{
        _cleanup_free_ char *buf = NULL;
        ssize_t n;
        int r;

        if (len == 0)
                return 0;
        if (len > LAYER_STREAM_IMPLICIT_MAX)
                return -EBADMSG;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        n = loop_read(st->sock, buf, len);
        if (n != (ssize_t)len || buf[len - 1] != '\0')
                return -EIO;
        for (const char *p = buf; p < buf + len; p += strlen(p) + 1) {
                r = strv_extend(&st->implicit_dirs, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Collect the child's report (and the directories it lists) and reap it. */
static int layer_stream_wait(ImageLayerStream *st, LayerStreamReport *ret, BerthError *err)
{
        ssize_t n;
        int status, r = 0;

        n = loop_read(st->sock, ret, sizeof(*ret));
        if (n == (ssize_t)sizeof(*ret))
                r = layer_stream_read_implicit(st, ret->implicit_len);
        while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR)
                ;
        st->pid = 0;
        st->finished = true;
        if (n != (ssize_t)sizeof(*ret) || r == -EIO)
                return error_setx(err, -EIO, "unpack layer %s: the unpacking process died",
                                  digest_hex(&st->layer.blob, (char[DIGEST_HEX_LEN + 1]){}));
        if (r < 0)
                return error_set(err, r, "unpack layer %s",
                                 digest_hex(&st->layer.blob, (char[DIGEST_HEX_LEN + 1]){}));
        ret->res.implicit_dirs = NULL; /* the child's pointer */
        return 0;
}

/* The child's verdict. @fed_digest: the caller's hash of every byte fed, NULL when the child
 * stopped early (an error either way). */
static int layer_stream_result(ImageLayerStream *st, const Digest *fed_digest, BerthError *err)
{
        LayerStreamReport rep;
        char hex[DIGEST_HEX_LEN + 1];
        int r;

        r = layer_stream_wait(st, &rep, err);
        if (r < 0)
                return r;
        if (rep.r < 0) {
                if (err) {
                        *err = rep.err;
                        error_prefix(err, "layer %s: ", digest_hex(&st->layer.blob, hex));
                }
                return rep.r;
        }
        /* The child did not hash the blob (skip_blob_digest): it read every byte fed, and the bytes
         * fed hash to the blob's digest. */
        if (rep.res.compressed_bytes != st->fed || !fed_digest || !digest_equal(fed_digest, &st->layer.blob))
                return error_setx(err, -EBADMSG, "layer %s: the unpacked stream is not the blob",
                                  digest_hex(&st->layer.blob, hex));
        return layer_check_diff_id(&st->layer, &rep.res, err);
}

int image_layer_stream_write(ImageLayerStream *st, const void *data, size_t n, BerthError *err)
{
        const char *p = data;

        assert(!st->finished);
        while (n > 0) {
                ssize_t k = send(st->sock, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EPIPE && errno != ECONNRESET)
                                return error_set(err, negative_errno(), "unpack layer");
                        /* The child stopped reading: its report says why. */
                        (void)shutdown(st->sock, SHUT_WR);
                        int r = layer_stream_result(st, NULL, err);
                        return r < 0 ? r : error_setx(err, -EBADMSG, "layer: data after the end of the tar");
                }
                p += k;
                n -= (size_t)k;
                st->fed += (uint64_t)k;
        }
        return 0;
}

int image_layer_stream_finish(ImageLayerStream *st, const Digest *fed_digest, BerthError *err)
{
        assert(!st->finished);
        if (shutdown(st->sock, SHUT_WR) < 0)
                return error_set(err, negative_errno(), "unpack layer");
        return layer_stream_result(st, fed_digest, err);
}

/* Make the directories the child made for names' parents as the top-most lower made them. */
static int layer_stream_fix_implicit(ImageLayerStream *st, const char *const *lower_dirs,
                                     size_t n_lower_dirs, BerthError *err)
{
        _cleanup_(lower_fds_done) LowerFds lowers = {};
        _cleanup_close_ int dfd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1];
        int r;

        if (!st->implicit_dirs || n_lower_dirs == 0)
                return 0;
        r = lower_fds_open(lower_dirs, n_lower_dirs, &lowers, err);
        if (r < 0)
                return r;
        dfd = open(st->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return error_set(err, negative_errno(), "open %s", st->tmp);
        r = layer_implicit_dirs_fix(dfd, st->implicit_dirs, lowers.fds, lowers.n, st->options.privileged,
                                    err);
        if (r < 0)
                error_prefix(err, "layer %s: ", digest_hex(&st->layer.blob, hex));
        return r;
}

int image_layer_stream_commit(ImageLayerStream *st, const char *const *lower_dirs, size_t n_lower_dirs,
                              BerthError *err)
{
        int r;

        assert(st->finished && st->tmp);
        r = layer_stream_fix_implicit(st, lower_dirs, n_lower_dirs, err);
        if (r < 0)
                return r;
        r = layer_commit(st->tmp, st->final, err);
        if (r >= 0)
                st->tmp = mfree(st->tmp); /* renamed, or removed when another won */
        return r;
}

/* Commit @st, layer @i of @l, over the layers below it (prepared), and fill in its dir. */
static int layer_stream_commit_at(ImageLayerStream *st, ImageLayers *l, size_t i, BerthError *err)
{
        _cleanup_free_ const char **lower_dirs = NULL;
        _cleanup_free_ char *final = NULL;
        int r;

        assert(digest_equal(&st->layer.chain_id, &l->layers[i].chain_id));
        final = strdup(st->final);
        if (!final)
                return -ENOMEM;
        r = lower_dirs_of(l, i, &lower_dirs);
        if (r < 0)
                return r;
        r = image_layer_stream_commit(st, lower_dirs, i, err);
        if (r < 0)
                return r;
        l->layers[i].dir = TAKE_PTR(final);
        return r;
}

ImageLayerStream *image_layer_stream_free(ImageLayerStream *st)
{
        if (!st)
                return NULL;
        safe_close(st->sock);
        if (st->pid > 0) {
                (void)kill(st->pid, SIGKILL);
                while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (st->tmp)
                (void)rm_rf_at(AT_FDCWD, st->tmp);
        strv_free(st->implicit_dirs);
        free(st->tmp);
        free(st->final);
        return mfree(st);
}
