/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "rootfs.h"
#include "unpack.h"

static int overlay_mount(const char *cdir, const char *rootfs, const ImageLayers *l, BerthError *err)
{
        _cleanup_free_ char *opts = NULL;
        size_t len = 0;
        char *p;

        for (size_t i = 0; i < l->n_layers; i++)
                len += strlen(l->layers[i].dir) + 1;
        len += 2 * strlen(cdir) + 64;
        opts = malloc(len);
        if (!opts)
                return -ENOMEM;
        p = stpcpy(opts, "lowerdir=");
        for (size_t i = l->n_layers; i > 0; i--) {
                const char *d = l->layers[i - 1].dir;
                /* ':' and ',' separate options; storage paths with them are refused, not escaped. */
                if (strpbrk(d, ":,\\"))
                        return error_setx(err, -EINVAL, "layer path %s: contains ':', ',' or '\\'", d);
                p = stpcpy(p, d);
                if (i > 1)
                        *p++ = ':';
        }
        if (strpbrk(cdir, ":,\\"))
                return error_setx(err, -EINVAL, "container path %s: contains ':', ',' or '\\'", cdir);
        size_t used = (size_t)(p - opts);
        int k = snprintf(p, len - used, ",upperdir=%s/upper,workdir=%s/work", cdir, cdir);
        if (k < 0 || (size_t)k >= len - used)
                return -ENOMEM;
        p += k;
        if ((size_t)(p - opts) >= (size_t)sysconf(_SC_PAGESIZE))
                return error_setx(err, -E2BIG, "overlay options for %zu layers are longer than a page",
                                  l->n_layers);
        if (mount("overlay", rootfs, "overlay", MS_NODEV, opts) < 0)
                return error_set(err, negative_errno(), "mount overlay on %s", rootfs);
        return 0;
}

int image_rootfs_unpack(Store *s, const ImageLayers *l, int dfd, BerthError *err)
{
        for (size_t i = 0; i < l->n_layers; i++) {
                _cleanup_close_ int fd = -EBADF;
                LayerUnpackOptions o = {
                        .compression = layer_compression_from_media_type(l->layers[i].media_type),
                        .privileged = geteuid() == 0,
                };
                LayerUnpackResult res;
                int r;

                if (o.compression < 0)
                        o.compression = LAYER_COMPRESSION_AUTO;
                r = store_blob_open(s, &l->layers[i].blob, &fd, err);
                if (r >= 0)
                        r = layer_unpack(fd, dfd, &o, &res, err);
                if (r < 0)
                        return r;
                if (!digest_equal(&res.diff_id, &l->layers[i].diff_id)) {
                        char hex[DIGEST_HEX_LEN + 1], got[DIGEST_STRING_LEN + 1],
                                want[DIGEST_STRING_LEN + 1];

                        return error_setx(err, -EBADMSG, "layer %s: diff_id is %s, the image config says %s",
                                          digest_hex(&l->layers[i].blob, hex),
                                          digest_format(&res.diff_id, got),
                                          digest_format(&l->layers[i].diff_id, want));
                }
        }
        return 0;
}

static int copy_layers(Store *s, const char *rootfs, const ImageLayers *l, BerthError *err)
{
        _cleanup_close_ int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (dfd < 0)
                return error_set(err, negative_errno(), "open %s", rootfs);
        return image_rootfs_unpack(s, l, dfd, err);
}

/* containers/<id>/layers: the chain ids the rootfs is made of, one a line, bottom first, so that
 * the layer GC (image_gc_layers()) keeps them while the container exists. */
static int write_layers_file(const char *cdir, const ImageLayers *l, BerthError *err)
{
        _cleanup_free_ char *text = NULL;
        char hex[DIGEST_HEX_LEN + 1];
        size_t len = 0;

        text = malloc(l->n_layers * (DIGEST_HEX_LEN + 1) + 1);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_layers; i++) {
                memcpy(text + len, digest_hex(&l->layers[i].chain_id, hex), DIGEST_HEX_LEN);
                len += DIGEST_HEX_LEN;
                text[len++] = '\n';
        }
        _cleanup_close_ int dfd = open(cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = dfd < 0 ? negative_errno() : write_file_atomic_at(dfd, "layers", text, len, 0644, 0);
        return r < 0 ? error_set(err, r, "write %s/layers", cdir) : 0;
}

static int container_dir(const char *storage_root, const char *id, char **ret)
{
        if (!*id || strchr(id, '/') || streq(id, ".") || streq(id, ".."))
                return -EINVAL;
        return asprintf(ret, "%s/containers/%s", storage_root, id) < 0 ? -ENOMEM : 0;
}

int container_rootfs_create(Store *s, const char *storage_root, const char *id, const ImageLayers *l,
                            ContainerRootfsFlags flags, char **ret_rootfs, ContainerRootfsKind *ret_kind,
                            BerthError *err)
{
        _cleanup_free_ char *cdir = NULL, *parent = NULL, *upper = NULL, *work = NULL, *rootfs = NULL;
        ContainerRootfsKind kind = CONTAINER_ROOTFS_OVERLAY;
        BerthError oerr = {};
        int r;

        r = container_dir(storage_root, id, &cdir);
        if (r < 0)
                return error_setx(err, r, "container id \"%s\": not a valid name", id);
        if (asprintf(&parent, "%s/containers", storage_root) < 0 || asprintf(&upper, "%s/upper", cdir) < 0 ||
            asprintf(&work, "%s/work", cdir) < 0 || asprintf(&rootfs, "%s/rootfs", cdir) < 0)
                return -ENOMEM;
        r = mkdir_p(parent, 0700);
        if (r < 0)
                return error_set(err, r, "mkdir %s", parent);
        if (mkdir(cdir, 0700) < 0) {
                if (errno == EEXIST)
                        return error_setx(err, -EEXIST, "container %s already exists (%s)", id, cdir);
                return error_set(err, negative_errno(), "container %s: mkdir %s", id, cdir);
        }
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0) {
                r = error_set(err, negative_errno(), "mkdir in %s", cdir);
                goto fail;
        }
        r = write_layers_file(cdir, l, err);
        if (r < 0)
                goto fail;
        /* No layers (a scratch image) or no overlay wanted: the copy path, an empty or flat tree. */
        r = l->n_layers > 0 && !(flags & CONTAINER_ROOTFS_NO_OVERLAY) ? overlay_mount(cdir, rootfs, l, &oerr)
                                                                      : -EOPNOTSUPP;
        /* Overlayfs missing, refused (an upper filesystem it cannot use, a path it cannot take) or too
         * many layers for one page of options: copy. Anything else is a real error. */
        if (r < 0 && r != -ENODEV && r != -EINVAL && r != -EOPNOTSUPP && r != -EPERM && r != -E2BIG) {
                if (err)
                        *err = oerr;
                goto fail;
        }
        if (r < 0) {
                kind = CONTAINER_ROOTFS_COPY;
                r = copy_layers(s, rootfs, l, err);
                if (r < 0)
                        goto fail;
        }
        *ret_rootfs = TAKE_PTR(rootfs);
        *ret_kind = kind;
        return 0;
fail:
        (void)container_rootfs_remove(storage_root, id, NULL);
        return r;
}

int container_rootfs_unmount(const char *storage_root, const char *id, BerthError *err)
{
        _cleanup_free_ char *cdir = NULL, *rootfs = NULL;
        int r;

        r = container_dir(storage_root, id, &cdir);
        if (r < 0)
                return error_setx(err, r, "container id \"%s\": not a valid name", id);
        if (asprintf(&rootfs, "%s/rootfs", cdir) < 0)
                return -ENOMEM;
        /* Not lazily: a busy rootfs means a process still uses it, which the caller should hear. */
        if (umount2(rootfs, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return error_set(err, negative_errno(), "unmount %s", rootfs);
        return 0;
}

int container_rootfs_remove(const char *storage_root, const char *id, BerthError *err)
{
        _cleanup_free_ char *cdir = NULL;
        int r;

        r = container_rootfs_unmount(storage_root, id, err);
        if (r < 0)
                return r;
        r = container_dir(storage_root, id, &cdir);
        if (r < 0)
                return r;
        r = rm_rf_at(AT_FDCWD, cdir);
        if (r < 0 && r != -ENOENT)
                return error_set(err, r, "remove %s", cdir);
        return 0;
}
