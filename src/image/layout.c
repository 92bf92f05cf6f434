/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI image layouts and their tar archives: load into the store, save out of it. */

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "layers.h"
#include "layout.h"
#include "reference.h"
#include "registry.h"

#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

#define JSON_MAX_BYTES (16U << 20)
#define COPY_BUF_BYTES (256U << 10)

static const char oci_layout_json[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);

typedef struct Blob {
        Digest digest;
        int64_t size;
} Blob;

/* What a load will do: the blobs to copy (manifests after what they reference) and the names. */
typedef struct LoadPlan {
        Blob *blobs;
        size_t n_blobs;
        char **names;
        Digest *manifests;
        size_t n_names;
} LoadPlan;

static void load_plan_done(LoadPlan *p)
{
        free(p->blobs);
        strv_free(p->names);
        free(p->manifests);
        *p = (LoadPlan){};
}

void layout_loaded_done(LayoutLoaded *l)
{
        strv_free(l->names);
        free(l->manifests);
        *l = (LayoutLoaded){};
}

static int plan_add_blob(LoadPlan *p, const Blob *b)
{
        Blob *n;

        for (size_t i = 0; i < p->n_blobs; i++)
                if (digest_equal(&p->blobs[i].digest, &b->digest))
                        return 0;
        n = reallocarray(p->blobs, p->n_blobs + 1, sizeof(Blob));
        if (!n)
                return -ENOMEM;
        p->blobs = n;
        p->blobs[p->n_blobs++] = *b;
        return 0;
}

static int plan_add_name(LoadPlan *p, char *name, const Digest *manifest)
{
        Digest *m;
        int r;

        for (size_t i = 0; i < p->n_names; i++)
                if (streq(p->names[i], name)) {
                        free(name);
                        p->manifests[i] = *manifest;
                        return 0;
                }
        m = reallocarray(p->manifests, p->n_names + 1, sizeof(Digest));
        if (!m) {
                free(name);
                return -ENOMEM;
        }
        p->manifests = m;
        p->manifests[p->n_names] = *manifest;
        r = strv_push(&p->names, name);
        if (r < 0)
                return r;
        p->n_names++;
        return 0;
}

static int descriptor_read(json_object *o, const char *what, Blob *ret, const char **ret_media_type,
                           BerthError *err)
{
        json_object *dg, *sz, *mt;
        int64_t size;
        int r;

        if (!o || json_object_get_type(o) != json_type_object ||
            !json_object_object_get_ex(o, "digest", &dg) || json_object_get_type(dg) != json_type_string ||
            !json_object_object_get_ex(o, "size", &sz) || json_object_get_type(sz) != json_type_int)
                return error_setx(err, -EINVAL, "%s: descriptor without digest or size", what);
        size = json_object_get_int64(sz);
        if (size < 0 || size == INT64_MAX)
                return error_setx(err, -EINVAL, "%s: descriptor size %" PRId64 " out of range", what, size);
        r = digest_parse(json_object_get_string(dg), &ret->digest, err);
        if (r < 0) {
                error_prefix(err, "%s: ", what);
                return r;
        }
        ret->size = size;
        if (ret_media_type)
                *ret_media_type = json_object_object_get_ex(o, "mediaType", &mt) &&
                                                  json_object_get_type(mt) == json_type_string
                                          ? json_object_get_string(mt)
                                          : NULL;
        return 0;
}

/* Open blobs/sha256/<hex> below @blobs_fd as a regular file of the descriptor's size. */
/* Takes one block read by fd_read_blocks(); a negative return, already recorded in @err, stops it. */
typedef int (*BlockFn)(const char *buf, size_t n, void *userdata, BerthError *err);

/* Read @fd to its end, a block at a time, handing each to @block. Returns 0, -ENOMEM, @block's error,
 * or the -errno of a failed read() with *ret_read_failed set, for the caller to say what it read. */
static int fd_read_blocks(int fd, BlockFn block, void *userdata, bool *ret_read_failed, BerthError *err)
{
        _cleanup_free_ char *buf = NULL;
        int r;

        *ret_read_failed = false;
        buf = malloc(COPY_BUF_BYTES);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, COPY_BUF_BYTES);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        *ret_read_failed = true;
                        return negative_errno();
                }
                if (n == 0)
                        return 0;
                r = block(buf, (size_t)n, userdata, err);
                if (r < 0)
                        return r;
        }
}

static int block_hash(const char *buf, size_t n, void *userdata, BerthError *err)
{
        hasher_update(userdata, buf, n);
        return 0;
}

static int layout_blob_open(int blobs_fd, const char *dir, const Blob *b, int *ret_fd, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1], d[DIGEST_STRING_LEN + 1];
        struct stat st;

        fd = openat(blobs_fd, digest_hex(&b->digest, hex), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "\"%s\": blob %s", dir,
                                 digest_format(&b->digest, d));
        if (fstat(fd, &st) < 0)
                return error_set(err, negative_errno(), "\"%s\": blob %s", dir,
                                 digest_format(&b->digest, d));
        if (!S_ISREG(st.st_mode))
                return error_setx(err, -EINVAL, "\"%s\": blob %s is not a regular file", dir,
                                  digest_format(&b->digest, d));
        if (st.st_size != b->size)
                return error_setx(err, -EBADMSG,
                                  "\"%s\": blob %s is %" PRId64 " bytes, its descriptor says %" PRId64, dir,
                                  digest_format(&b->digest, d), (int64_t)st.st_size, b->size);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Read the whole blob and check its digest. */
static int layout_blob_verify(int blobs_fd, const char *dir, const Blob *b, BerthError *err)
{
        _cleanup_(hasher_freep) Hasher *h = NULL;
        _cleanup_close_ int fd = -EBADF;
        char want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
        bool read_failed;
        Digest dg;
        int r;

        r = layout_blob_open(blobs_fd, dir, b, &fd, err);
        if (r < 0)
                return r;
        h = hasher_new();
        if (!h)
                return -ENOMEM;
        r = fd_read_blocks(fd, block_hash, h, &read_failed, err);
        if (read_failed)
                return error_set(err, r, "\"%s\": read blob %s", dir, digest_format(&b->digest, want));
        if (r < 0)
                return r;
        hasher_final(h, &dg);
        if (!digest_equal(&dg, &b->digest))
                return error_setx(err, -EBADMSG, "\"%s\": blob %s has digest %s", dir,
                                  digest_format(&b->digest, want), digest_format(&dg, got));
        return 0;
}

/* Read a JSON blob (a manifest or an index) after checking its size and digest. */
static int layout_blob_json(int blobs_fd, const char *dir, const Blob *b, json_object **ret, BerthError *err)
{
        _cleanup_free_ char *bytes = NULL;
        char hex[DIGEST_HEX_LEN + 1], d[DIGEST_STRING_LEN + 1];
        json_object *j;
        size_t len;
        int r;

        if ((uint64_t)b->size > JSON_MAX_BYTES)
                return error_setx(err, -EFBIG, "\"%s\": manifest %s is larger than %u bytes", dir,
                                  digest_format(&b->digest, d), JSON_MAX_BYTES);
        r = layout_blob_verify(blobs_fd, dir, b, err);
        if (r < 0)
                return r;
        r = read_full_file_at(blobs_fd, digest_hex(&b->digest, hex), JSON_MAX_BYTES, &bytes, &len);
        if (r < 0)
                return error_set(err, r, "\"%s\": read blob %s", dir, digest_format(&b->digest, d));
        j = json_tokener_parse(bytes);
        if (!j || json_object_get_type(j) != json_type_object) {
                json_object_put(j);
                return error_setx(err, -EINVAL, "\"%s\": blob %s is not a JSON object", dir,
                                  digest_format(&b->digest, d));
        }
        *ret = j;
        return 0;
}

static bool is_index(json_object *j, const char *media_type)
{
        json_object *mt;

        if (json_object_object_get_ex(j, "mediaType", &mt) && json_object_get_type(mt) == json_type_string)
                media_type = json_object_get_string(mt);
        if (media_type)
                return streq(media_type, MT_OCI_INDEX) || streq(media_type, MT_DOCKER_LIST);
        return json_object_object_get_ex(j, "manifests", NULL);
}

static bool platform_matches(json_object *desc, const RegistryPlatform *p)
{
        json_object *pl, *os, *arch, *var;

        if (!json_object_object_get_ex(desc, "platform", &pl) || !json_object_object_get_ex(pl, "os", &os) ||
            !json_object_object_get_ex(pl, "architecture", &arch))
                return false;
        if (!streq(json_object_get_string(os), p->os) ||
            !streq(json_object_get_string(arch), p->architecture))
                return false;
        if (p->variant[0] && json_object_object_get_ex(pl, "variant", &var))
                return streq(json_object_get_string(var), p->variant);
        return true;
}

/* An image manifest's config and layers, then the manifest itself. */
static int plan_manifest(LoadPlan *p, int blobs_fd, const char *dir, const Blob *m, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *j = NULL;
        json_object *config, *layers;
        Blob b;
        int r;

        r = layout_blob_json(blobs_fd, dir, m, &j, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(j, "config", &config) ||
            !json_object_object_get_ex(j, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EINVAL, "\"%s\": manifest without \"config\" or \"layers\"", dir);
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                r = descriptor_read(json_object_array_get_idx(layers, i), "layer", &b, NULL, err);
                if (r >= 0)
                        r = layout_blob_verify(blobs_fd, dir, &b, err);
                if (r >= 0)
                        r = plan_add_blob(p, &b);
                if (r < 0)
                        return r;
        }
        r = descriptor_read(config, "config", &b, NULL, err);
        if (r >= 0)
                r = layout_blob_verify(blobs_fd, dir, &b, err);
        if (r >= 0)
                r = plan_add_blob(p, &b);
        if (r >= 0)
                r = plan_add_blob(p, m);
        return r;
}

/* The image an index.json entry stands for: itself, or the host platform's entry of its index. */
static int plan_entry(LoadPlan *p, int blobs_fd, const char *dir, const Blob *entry, const char *media_type,
                      Digest *ret_manifest, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *j = NULL;
        char d[DIGEST_STRING_LEN + 1];
        RegistryPlatform host;
        json_object *list;
        int r;

        r = layout_blob_json(blobs_fd, dir, entry, &j, err);
        if (r < 0)
                return r;
        if (!is_index(j, media_type)) {
                r = plan_manifest(p, blobs_fd, dir, entry, err);
                if (r >= 0)
                        *ret_manifest = entry->digest;
                return r;
        }
        registry_platform_host(&host);
        if (!json_object_object_get_ex(j, "manifests", &list) ||
            json_object_get_type(list) != json_type_array)
                return error_setx(err, -EINVAL, "\"%s\": index %s without \"manifests\"", dir,
                                  digest_format(&entry->digest, d));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *desc = json_object_array_get_idx(list, i);
                Blob b;

                if (!platform_matches(desc, &host))
                        continue;
                r = descriptor_read(desc, "index entry", &b, NULL, err);
                if (r >= 0)
                        r = plan_manifest(p, blobs_fd, dir, &b, err);
                if (r >= 0)
                        r = plan_add_blob(p, entry);
                if (r >= 0)
                        *ret_manifest = b.digest;
                return r;
        }
        return error_setx(err, -ENOENT, "\"%s\": index %s has no image for %s/%s", dir,
                          digest_format(&entry->digest, d), host.os, host.architecture);
}

static const char *annotation(json_object *desc, const char *key)
{
        json_object *a, *v;

        if (!json_object_object_get_ex(desc, "annotations", &a) || !json_object_object_get_ex(a, key, &v) ||
            json_object_get_type(v) != json_type_string)
                return NULL;
        return json_object_get_string(v);
}

/* The name of index.json entry @i of @n (see layout.h). */
static int entry_name(json_object *desc, size_t n, const char *name, const char *dir, char **ret,
                      BerthError *err)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *repo = NULL, *text = NULL;
        const char *tag;
        int r;

        tag = annotation(desc, LAYOUT_ANNOTATION_CONTAINERD_NAME);
        if (tag && !name)
                return image_reference_canonical(tag, ret, err);
        tag = annotation(desc, LAYOUT_ANNOTATION_REF_NAME);
        if (tag && !name && strpbrk(tag, "/:@"))
                return image_reference_canonical(tag, ret, err);
        if (name && n == 1)
                return image_reference_canonical(name, ret, err);
        if (!name && !tag)
                return error_setx(
                        err, -EINVAL,
                        "\"%s\": an image has no name (no ref name annotation); give one with --name REF",
                        dir);
        if (!name)
                return error_setx(err, -EINVAL,
                                  "\"%s\": image \"%s\" has only a tag for a name; give one with --name REF",
                                  dir, tag);
        if (!tag)
                return error_setx(
                        err, -EINVAL,
                        "\"%s\": %zu images and one without a ref name: --name cannot name them all", dir,
                        n);
        r = image_reference_parse(name, &ref, err);
        if (r < 0)
                return r;
        repo = image_reference_name(ref);
        if (!repo || asprintf(&text, "%s:%s", repo, tag) < 0)
                return -ENOMEM;
        return image_reference_canonical(text, ret, err);
}

static int layout_plan(int dirfd, const char *dir, const char *name, int blobs_fd, LoadPlan *p,
                       BerthError *err)
{
        _cleanup_(json_object_putp) json_object *layout = NULL, *index = NULL;
        _cleanup_free_ char *bytes = NULL;
        json_object *v, *list;
        size_t len, n;
        int r;

        r = read_full_file_at(dirfd, "oci-layout", JSON_MAX_BYTES, &bytes, &len);
        if (r == -ENOENT)
                return error_setx(err, r, "\"%s\": not an OCI image layout (no oci-layout file)", dir);
        if (r < 0)
                return error_set(err, r, "\"%s\": read oci-layout", dir);
        layout = json_tokener_parse(bytes);
        if (!layout || !json_object_object_get_ex(layout, "imageLayoutVersion", &v) ||
            json_object_get_type(v) != json_type_string || !streq(json_object_get_string(v), "1.0.0"))
                return error_setx(err, -EINVAL,
                                  "\"%s\": oci-layout is not {\"imageLayoutVersion\": \"1.0.0\"}", dir);
        bytes = mfree(bytes);
        r = read_full_file_at(dirfd, "index.json", JSON_MAX_BYTES, &bytes, &len);
        if (r < 0)
                return error_set(err, r, "\"%s\": read index.json", dir);
        index = json_tokener_parse(bytes);
        if (!index || !json_object_object_get_ex(index, "manifests", &list) ||
            json_object_get_type(list) != json_type_array)
                return error_setx(err, -EINVAL, "\"%s\": index.json is not an image index", dir);
        n = json_object_array_length(list);
        if (n == 0)
                return error_setx(err, -EINVAL, "\"%s\": index.json lists no images", dir);
        for (size_t i = 0; i < n; i++) {
                json_object *desc = json_object_array_get_idx(list, i);
                _cleanup_free_ char *image_name = NULL;
                const char *media_type;
                Digest manifest;
                Blob b;

                r = descriptor_read(desc, "index.json", &b, &media_type, err);
                if (r >= 0)
                        r = entry_name(desc, n, name, dir, &image_name, err);
                if (r >= 0)
                        r = plan_entry(p, blobs_fd, dir, &b, media_type, &manifest, err);
                if (r >= 0)
                        r = plan_add_name(p, TAKE_PTR(image_name), &manifest);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int block_store(const char *buf, size_t n, void *userdata, BerthError *err)
{
        return store_blob_writer_write(userdata, buf, n, err);
}

static int blob_copy_in(Store *s, int blobs_fd, const char *dir, const Blob *b, BerthError *err)
{
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        _cleanup_close_ int fd = -EBADF;
        char d[DIGEST_STRING_LEN + 1];
        bool read_failed;
        int r;

        r = store_blob_exists(s, &b->digest);
        if (r > 0)
                return 1;
        r = layout_blob_open(blobs_fd, dir, b, &fd, err);
        if (r < 0)
                return r;
        r = store_blob_writer_begin(s, b->size, &w, err);
        if (r < 0)
                return r;
        r = fd_read_blocks(fd, block_store, w, &read_failed, err);
        if (read_failed)
                return error_set(err, r, "\"%s\": read blob %s", dir, digest_format(&b->digest, d));
        if (r < 0)
                return r;
        return store_blob_writer_commit(w, &b->digest, err);
}

/* Load the layout at @path; messages name @dir (the archive, for an extracted one). */
static int layout_load(Store *s, const char *path, const char *dir, const char *name, LayoutLoaded *ret,
                       BerthError *err)
{
        _cleanup_(load_plan_done) LoadPlan p = {};
        _cleanup_close_ int dirfd = -EBADF, blobs_fd = -EBADF;
        LayoutLoaded res = {};
        int r;

        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return error_set(err, negative_errno(), "open layout \"%s\"", dir);
        blobs_fd = openat(dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (blobs_fd < 0 && errno == ENOENT)
                return error_setx(err, -ENOENT,
                                  "\"%s\": not an OCI image layout (no blobs/sha256 directory)", dir);
        if (blobs_fd < 0)
                return error_set(err, negative_errno(), "open \"%s/blobs/sha256\"", dir);
        r = layout_plan(dirfd, dir, name, blobs_fd, &p, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p.n_blobs; i++) {
                r = blob_copy_in(s, blobs_fd, dir, &p.blobs[i], err);
                if (r < 0)
                        return r;
                if (r > 0)
                        res.blobs_present++;
                else
                        res.blobs_added++;
        }
        for (size_t i = 0; i < p.n_names; i++) {
                r = store_name_set(s, p.names[i], &p.manifests[i], err);
                if (r < 0)
                        return r;
        }
        res.names = TAKE_PTR(p.names);
        res.manifests = TAKE_PTR(p.manifests);
        res.n = p.n_names;
        *ret = res;
        return 0;
}

int image_layout_load(Store *s, const char *dir, const char *name, LayoutLoaded *ret, BerthError *err)
{
        return layout_load(s, dir, dir, name, ret, err);
}

/* ---- archives in ---- */

/* Create the directories of @path (all of them when @last too) below @root; the parent's fd for a file. */
static int extract_dirs(int root, char *path, bool last, int *ret_fd)
{
        _cleanup_close_ int fd = -EBADF;
        char *p = path, *slash;

        fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                int next;

                slash = strchr(p, '/');
                if (!slash && !last)
                        break;
                if (slash)
                        *slash = 0;
                if (*p && !streq(p, ".")) {
                        if (mkdirat(fd, p, 0700) < 0 && errno != EEXIST)
                                return negative_errno();
                        next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (next < 0)
                                return negative_errno();
                        safe_close(fd);
                        fd = next;
                }
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        *ret_fd = TAKE_FD(fd);
        return (int)(p - path);
}

static bool path_is_safe(const char *path)
{
        const char *p = path;

        if (*path == '/' || *path == 0)
                return false;
        while (*p) {
                size_t k = strcspn(p, "/");

                if (k == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += k;
                p += strspn(p, "/");
        }
        return true;
}

static int extract_entry(struct archive *a, struct archive_entry *e, int root, const char *archive_path,
                         BerthError *err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int parent = -EBADF, fd = -EBADF;
        const char *name = archive_entry_pathname(e);
        mode_t type = archive_entry_filetype(e);
        int r;

        if (!name || !path_is_safe(name))
                return error_setx(err, -EPERM, "\"%s\": entry \"%s\" leaves the archive's directory",
                                  archive_path, name ? name : "");
        /* Docker archives carry symlinks (ID/layer.tar -> ../HEX.tar) for old readers; manifest.json
         * names the files themselves, so links are never needed and never created. */
        if (type == AE_IFLNK && !archive_entry_hardlink(e))
                return 0;
        if (archive_entry_hardlink(e) || (type != AE_IFDIR && type != AE_IFREG))
                return error_setx(err, -EPERM, "\"%s\": entry \"%s\" is not a file or a directory",
                                  archive_path, name);
        path = strdup(name);
        if (!path)
                return -ENOMEM;
        r = extract_dirs(root, path, type == AE_IFDIR, &parent);
        if (r < 0)
                return error_set(err, r, "\"%s\": extract \"%s\"", archive_path, name);
        if (type == AE_IFDIR)
                return 0;
        fd = openat(parent, path + r, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_set(err, negative_errno(), "\"%s\": extract \"%s\"", archive_path, name);
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;

                r = archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK)
                        return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
                if (lseek(fd, offset, SEEK_SET) < 0)
                        return error_set(err, negative_errno(), "\"%s\": extract \"%s\"", archive_path,
                                         name);
                r = loop_write(fd, buf, size);
                if (r < 0)
                        return error_set(err, r, "\"%s\": extract \"%s\"", archive_path, name);
        }
}

static int archive_extract(const char *archive_path, int root, BerthError *err)
{
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        struct archive_entry *e;
        int r;

        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        if (archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK)
                return error_setx(err, archive_errno(a) > 0 ? -archive_errno(a) : -EINVAL, "\"%s\": %s",
                                  archive_path, archive_error_string(a));
        for (;;) {
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return error_setx(err, -EINVAL, "\"%s\": %s", archive_path, archive_error_string(a));
                r = extract_entry(a, e, root, archive_path, err);
                if (r < 0)
                        return r;
        }
}

/* ---- Docker archives (`docker save`): manifest.json + config + layer tars, made into a layout ---- */

#define MT_OCI_CONFIG     "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER      "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

typedef struct DockerHash {
        Hasher *hasher;
        uint64_t size;
        bool *gzip; /* NULL, or set from the first block */
} DockerHash;

static int block_docker_hash(const char *buf, size_t n, void *userdata, BerthError *err)
{
        DockerHash *dh = userdata;

        if (dh->size == 0 && dh->gzip)
                *dh->gzip = n >= 2 && (uint8_t)buf[0] == 0x1f && (uint8_t)buf[1] == 0x8b;
        hasher_update(dh->hasher, buf, n);
        dh->size += n;
        return 0;
}

/* Hash a file of the extracted archive and link it into blobs/sha256 under its digest. */
static int docker_blob(int dirfd, int blobs_fd, const char *path, const char *archive_path, Blob *ret,
                       bool *ret_gzip, BerthError *err)
{
        _cleanup_(hasher_freep) Hasher *h = NULL;
        _cleanup_close_ int fd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1];
        DockerHash dh;
        bool read_failed;
        Blob b;
        int r;

        if (!path_is_safe(path))
                return error_setx(err, -EPERM, "\"%s\": manifest.json names \"%s\", outside the archive",
                                  archive_path, path);
        fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_set(err, negative_errno(), "\"%s\": \"%s\" named in manifest.json",
                                 archive_path, path);
        h = hasher_new();
        if (!h)
                return -ENOMEM;
        dh = (DockerHash){.hasher = h, .gzip = ret_gzip};
        r = fd_read_blocks(fd, block_docker_hash, &dh, &read_failed, err);
        if (read_failed)
                return error_set(err, r, "\"%s\": read \"%s\"", archive_path, path);
        if (r < 0)
                return r;
        hasher_final(h, &b.digest);
        b.size = (int64_t)dh.size;
        if (linkat(dirfd, path, blobs_fd, digest_hex(&b.digest, hex), 0) < 0 && errno != EEXIST)
                return error_set(err, negative_errno(), "\"%s\": link \"%s\"", archive_path, path);
        *ret = b;
        return 0;
}

static int docker_write_blob(int blobs_fd, const char *text, Blob *ret)
{
        _cleanup_(hasher_freep) Hasher *h = hasher_new();
        char hex[DIGEST_HEX_LEN + 1];
        Blob b;

        if (!h)
                return -ENOMEM;
        hasher_update(h, text, strlen(text));
        hasher_final(h, &b.digest);
        b.size = (int64_t)strlen(text);
        *ret = b;
        return write_file_atomic_at(blobs_fd, digest_hex(&b.digest, hex), text, strlen(text), 0600, 0);
}

static json_object *descriptor_new(const char *media_type, const Blob *b)
{
        json_object *o = json_object_new_object();
        char d[DIGEST_STRING_LEN + 1];

        if (!o)
                return NULL;
        json_object_object_add(o, "mediaType", json_object_new_string(media_type));
        json_object_object_add(o, "digest", json_object_new_string(digest_format(&b->digest, d)));
        json_object_object_add(o, "size", json_object_new_int64(b->size));
        return o;
}

/* One manifest.json entry: an OCI manifest in blobs/, and index.json entries for its RepoTags. */
static int docker_entry(int dirfd, int blobs_fd, json_object *entry, json_object *index_list,
                        const char *archive_path, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *manifest = NULL;
        json_object *config, *layers, *tags, *list;
        Blob b;
        bool gzip = false;
        size_t n_tags;
        int r;

        if (!json_object_object_get_ex(entry, "Config", &config) ||
            json_object_get_type(config) != json_type_string ||
            !json_object_object_get_ex(entry, "Layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EINVAL, "\"%s\": manifest.json entry without Config or Layers",
                                  archive_path);
        manifest = json_object_new_object();
        list = json_object_new_array();
        if (!manifest || !list) {
                json_object_put(list);
                return -ENOMEM;
        }
        json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
        json_object_object_add(manifest, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
        r = docker_blob(dirfd, blobs_fd, json_object_get_string(config), archive_path, &b, NULL, err);
        if (r < 0) {
                json_object_put(list);
                return r;
        }
        json_object_object_add(manifest, "config", descriptor_new(MT_OCI_CONFIG, &b));
        json_object_object_add(manifest, "layers", list);
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                json_object *l = json_object_array_get_idx(layers, i);

                if (json_object_get_type(l) != json_type_string)
                        return error_setx(err, -EINVAL, "\"%s\": manifest.json layer is not a path",
                                          archive_path);
                r = docker_blob(dirfd, blobs_fd, json_object_get_string(l), archive_path, &b, &gzip, err);
                if (r < 0)
                        return r;
                json_object_array_add(list, descriptor_new(gzip ? MT_OCI_LAYER_GZIP : MT_OCI_LAYER, &b));
        }
        r = docker_write_blob(blobs_fd, json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PLAIN),
                              &b);
        if (r < 0)
                return error_set(err, r, "\"%s\": write manifest", archive_path);
        n_tags = json_object_object_get_ex(entry, "RepoTags", &tags) &&
                                 json_object_get_type(tags) == json_type_array
                         ? json_object_array_length(tags)
                         : 0;
        for (size_t i = 0; i < MAX(n_tags, (size_t)1); i++) {
                json_object *desc = descriptor_new(MT_OCI_MANIFEST, &b), *a;

                if (!desc)
                        return -ENOMEM;
                if (n_tags > 0 && (a = json_object_new_object())) {
                        json_object_object_add(a, LAYOUT_ANNOTATION_CONTAINERD_NAME,
                                               json_object_get(json_object_array_get_idx(tags, i)));
                        json_object_object_add(desc, "annotations", a);
                }
                json_object_array_add(index_list, desc);
        }
        return 0;
}

/* Turn an extracted Docker archive into an OCI layout in place. */
static int docker_archive_to_layout(int dirfd, const char *archive_path, BerthError *err)
{
        _cleanup_(json_object_putp) json_object *manifest = NULL, *index = NULL;
        _cleanup_close_ int blobs_fd = -EBADF;
        _cleanup_free_ char *bytes = NULL;
        json_object *list;
        const char *text;
        size_t len;
        int r;

        r = read_full_file_at(dirfd, "manifest.json", JSON_MAX_BYTES, &bytes, &len);
        if (r == -ENOENT)
                return error_setx(
                        err, r,
                        "\"%s\": neither an OCI layout (oci-layout) nor a Docker archive (manifest.json)",
                        archive_path);
        if (r < 0)
                return error_set(err, r, "\"%s\": read manifest.json", archive_path);
        manifest = json_tokener_parse(bytes);
        if (!manifest || json_object_get_type(manifest) != json_type_array ||
            json_object_array_length(manifest) == 0)
                return error_setx(err, -EINVAL, "\"%s\": manifest.json is not a list of images",
                                  archive_path);
        if ((mkdirat(dirfd, "blobs", 0700) < 0 && errno != EEXIST) ||
            (mkdirat(dirfd, "blobs/sha256", 0700) < 0 && errno != EEXIST))
                return error_set(err, negative_errno(), "\"%s\": create blobs/sha256", archive_path);
        blobs_fd = openat(dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (blobs_fd < 0)
                return error_set(err, negative_errno(), "\"%s\": open blobs/sha256", archive_path);
        index = json_object_new_object();
        list = json_object_new_array();
        if (!index || !list) {
                json_object_put(list);
                return -ENOMEM;
        }
        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        json_object_object_add(index, "manifests", list);
        for (size_t i = 0; i < json_object_array_length(manifest); i++) {
                r = docker_entry(dirfd, blobs_fd, json_object_array_get_idx(manifest, i), list, archive_path,
                                 err);
                if (r < 0)
                        return r;
        }
        text = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN);
        r = write_file_atomic_at(dirfd, "index.json", text, strlen(text), 0600, 0);
        if (r >= 0)
                r = write_file_atomic_at(dirfd, "oci-layout", oci_layout_json, strlen(oci_layout_json), 0600,
                                         0);
        if (r < 0)
                return error_set(err, r, "\"%s\": write index.json", archive_path);
        return 0;
}

int image_archive_load(Store *s, const char *archive, const char *name, LayoutLoaded *ret, BerthError *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s/tmp/load-XXXXXX", store_root(s)) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return error_set(err, negative_errno(), "create \"%s\"", tmp);
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                r = error_set(err, negative_errno(), "open \"%s\"", tmp);
        else
                r = archive_extract(archive, fd, err);
        if (r >= 0 && faccessat(fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                r = docker_archive_to_layout(fd, archive, err);
        if (r >= 0) {
                r = layout_load(s, tmp, archive, name, ret, err);
        }
        (void)rm_rf_at(AT_FDCWD, tmp);
        return r;
}

/* ---- saving ---- */

/* What a save writes: the blobs (layers, config, manifest) and index.json. */
typedef struct SavePlan {
        Blob blobs[1 + 1 + 4096]; /* the layers, the config, the manifest */
        size_t n_blobs;
        char *index_json;
        char *full_name; /* the canonical reference */
} SavePlan;

static void save_plan_free(SavePlan **p)
{
        if (*p) {
                free((*p)->index_json);
                free((*p)->full_name);
        }
        free(*p);
}

static int store_json(Store *s, const Digest *d, json_object **ret, BerthError *err)
{
        _cleanup_free_ char *bytes = NULL, *path = NULL;
        char hex[DIGEST_HEX_LEN + 1], buf[DIGEST_STRING_LEN + 1];
        json_object *j;
        size_t len;
        int r;

        if (asprintf(&path, "%s/blobs/sha256/%s", store_root(s), digest_hex(d, hex)) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, JSON_MAX_BYTES, &bytes, &len);
        if (r < 0)
                return error_set(err, r, "read blob %s", digest_format(d, buf));
        j = json_tokener_parse(bytes);
        if (!j || json_object_get_type(j) != json_type_object) {
                json_object_put(j);
                return error_setx(err, -EINVAL, "blob %s is not a JSON object", digest_format(d, buf));
        }
        *ret = j;
        return 0;
}

static int save_plan(Store *s, const char *name, SavePlan **ret, BerthError *err)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(json_object_putp) json_object *manifest = NULL, *config_json = NULL, *index = NULL;
        _cleanup_(save_plan_free) SavePlan *p = NULL;
        _cleanup_free_ char *full = NULL;
        json_object *config, *layers, *mt, *entry, *annotations, *platform, *list, *v;
        char d[DIGEST_STRING_LEN + 1];
        uint64_t size;
        Blob m;
        size_t n;
        int r;

        r = image_reference_parse(name, &ref, err);
        if (r < 0)
                return r;
        full = image_reference_format(ref);
        if (!full)
                return -ENOMEM;
        r = store_name_get(s, full, &m.digest, err);
        if (r < 0)
                return r;
        r = store_blob_size(s, &m.digest, &size, err);
        if (r < 0)
                return r;
        m.size = (int64_t)size;
        r = store_json(s, &m.digest, &manifest, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(manifest, "config", &config) ||
            !json_object_object_get_ex(manifest, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EINVAL, "%s: manifest %s without \"config\" or \"layers\"", full,
                                  digest_format(&m.digest, d));
        p = calloc(1, sizeof(SavePlan));
        if (!p)
                return -ENOMEM;
        n = json_object_array_length(layers);
        if (n + 2 > ELEMENTSOF(p->blobs))
                return error_setx(err, -E2BIG, "%s: %zu layers", full, n);
        for (size_t i = 0; i < n; i++) {
                r = descriptor_read(json_object_array_get_idx(layers, i), "layer", &p->blobs[p->n_blobs],
                                    NULL, err);
                if (r < 0)
                        return r;
                p->n_blobs++;
        }
        r = descriptor_read(config, "config", &p->blobs[p->n_blobs], NULL, err);
        if (r < 0)
                return r;
        r = store_json(s, &p->blobs[p->n_blobs].digest, &config_json, err);
        if (r < 0)
                return r;
        p->n_blobs++;
        p->blobs[p->n_blobs++] = m;

        index = json_object_new_object();
        list = json_object_new_array();
        entry = json_object_new_object();
        annotations = json_object_new_object();
        platform = json_object_new_object();
        if (!index || !list || !entry || !annotations || !platform)
                return -ENOMEM;
        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        json_object_object_add(index, "mediaType", json_object_new_string(MT_OCI_INDEX));
        json_object_object_add(index, "manifests", list);
        json_object_array_add(list, entry);
        json_object_object_add(entry, "mediaType",
                               json_object_new_string(json_object_object_get_ex(manifest, "mediaType", &mt)
                                                              ? json_object_get_string(mt)
                                                              : MT_OCI_MANIFEST));
        json_object_object_add(entry, "digest", json_object_new_string(digest_format(&m.digest, d)));
        json_object_object_add(entry, "size", json_object_new_int64(m.size));
        json_object_object_add(entry, "annotations", annotations);
        json_object_object_add(annotations, LAYOUT_ANNOTATION_CONTAINERD_NAME, json_object_new_string(full));
        json_object_object_add(annotations, LAYOUT_ANNOTATION_REF_NAME,
                               json_object_new_string(ref->tag ? ref->tag : IMAGE_REFERENCE_DEFAULT_TAG));
        if (json_object_object_get_ex(config_json, "os", &v) &&
            json_object_object_get_ex(config_json, "architecture", NULL)) {
                json_object_object_add(entry, "platform", platform);
                json_object_object_add(platform, "architecture",
                                       json_object_get(json_object_object_get(config_json, "architecture")));
                json_object_object_add(platform, "os", json_object_get(v));
                if (json_object_object_get_ex(config_json, "variant", &v))
                        json_object_object_add(platform, "variant", json_object_get(v));
        } else
                json_object_put(platform);
        p->index_json = strdup(json_object_to_json_string_ext(
                index, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!p->index_json)
                return -ENOMEM;
        p->full_name = TAKE_PTR(full);
        *ret = TAKE_PTR(p);
        return 0;
}

typedef struct BlobWrite {
        int fd;
        const Blob *blob;
} BlobWrite;

static int block_write(const char *buf, size_t n, void *userdata, BerthError *err)
{
        const BlobWrite *bw = userdata;
        char d[DIGEST_STRING_LEN + 1];
        int r;

        r = loop_write(bw->fd, buf, n);
        if (r < 0)
                return error_set(err, r, "write blob %s", digest_format(&bw->blob->digest, d));
        return 0;
}

/* Copy a store blob to @out_fd. */
static int blob_copy_out(Store *s, const Blob *b, int out_fd, BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        char d[DIGEST_STRING_LEN + 1];
        bool read_failed;
        int r;

        r = store_blob_open(s, &b->digest, &fd, err);
        if (r < 0)
                return r;
        r = fd_read_blocks(fd, block_write, &(BlobWrite){out_fd, b}, &read_failed, err);
        if (read_failed)
                return error_set(err, r, "read blob %s", digest_format(&b->digest, d));
        return r;
}

static int dir_is_empty(int fd)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int dup_fd;

        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return negative_errno();
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return 0;
        return 1;
}

int image_layout_save(Store *s, const char *name, const char *dir, BerthError *err)
{
        _cleanup_(save_plan_free) SavePlan *p = NULL;
        _cleanup_close_ int dirfd = -EBADF, blobs_fd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1];
        int r;

        r = save_plan(s, name, &p, err);
        if (r < 0)
                return r;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return error_set(err, negative_errno(), "create \"%s\"", dir);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return error_set(err, negative_errno(), "open \"%s\"", dir);
        r = dir_is_empty(dirfd);
        if (r < 0)
                return error_set(err, r, "read \"%s\"", dir);
        if (r == 0)
                return error_setx(err, -EEXIST, "\"%s\" is not empty; save writes a new layout", dir);
        if (mkdirat(dirfd, "blobs", 0755) < 0 || mkdirat(dirfd, "blobs/sha256", 0755) < 0)
                return error_set(err, negative_errno(), "create \"%s/blobs/sha256\"", dir);
        blobs_fd = openat(dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (blobs_fd < 0)
                return error_set(err, negative_errno(), "open \"%s/blobs/sha256\"", dir);
        for (size_t i = 0; i < p->n_blobs; i++) {
                _cleanup_close_ int fd = -EBADF;

                fd = openat(blobs_fd, digest_hex(&p->blobs[i].digest, hex),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0 && errno == EEXIST)
                        continue; /* a layer listed twice */
                if (fd < 0)
                        return error_set(err, negative_errno(), "create \"%s/blobs/sha256/%s\"", dir, hex);
                r = blob_copy_out(s, &p->blobs[i], fd, err);
                if (r < 0)
                        return r;
        }
        r = write_file_atomic_at(dirfd, "oci-layout", oci_layout_json, strlen(oci_layout_json), 0644, 0);
        if (r >= 0)
                r = write_file_atomic_at(dirfd, "index.json", p->index_json, strlen(p->index_json), 0644, 0);
        if (r < 0)
                return error_set(err, r, "write \"%s\"", dir);
        return 0;
}

/* ---- archives out ---- */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free);

static int tar_header(struct archive *a, const char *path, mode_t type, int64_t size,
                      const char *archive_path, BerthError *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        return 0;
}

static int tar_bytes(struct archive *a, const char *path, const char *data, const char *archive_path,
                     BerthError *err)
{
        size_t len = strlen(data);
        int r;

        r = tar_header(a, path, AE_IFREG, (int64_t)len, archive_path, err);
        if (r < 0)
                return r;
        if (archive_write_data(a, data, len) != (la_ssize_t)len)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        return 0;
}

typedef struct TarWrite {
        struct archive *archive;
        const char *archive_path;
} TarWrite;

static int block_tar(const char *buf, size_t n, void *userdata, BerthError *err)
{
        const TarWrite *tw = userdata;

        if (archive_write_data(tw->archive, buf, n) != (la_ssize_t)n)
                return error_setx(err, -EIO, "\"%s\": %s", tw->archive_path,
                                  archive_error_string(tw->archive));
        return 0;
}

/* The store blob @b as the archive member @path. */
static int tar_blob(struct archive *a, Store *s, const Blob *b, const char *path, const char *archive_path,
                    BerthError *err)
{
        _cleanup_close_ int fd = -EBADF;
        char hex[DIGEST_HEX_LEN + 1];
        bool read_failed;
        int r;

        digest_hex(&b->digest, hex);
        r = store_blob_open(s, &b->digest, &fd, err);
        if (r < 0)
                return r;
        r = tar_header(a, path, AE_IFREG, b->size, archive_path, err);
        if (r < 0)
                return r;
        r = fd_read_blocks(fd, block_tar, &(TarWrite){a, archive_path}, &read_failed, err);
        if (read_failed)
                return error_set(err, r, "read blob %s", hex);
        return r;
}

static int archive_write_plan(const SavePlan *p, Store *s, int fd, const char *archive_path, BerthError *err)
{
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        int r;

        a = archive_write_new();
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        r = tar_bytes(a, "oci-layout", oci_layout_json, archive_path, err);
        if (r >= 0)
                r = tar_header(a, "blobs/", AE_IFDIR, 0, archive_path, err);
        if (r >= 0)
                r = tar_header(a, "blobs/sha256/", AE_IFDIR, 0, archive_path, err);
        for (size_t i = 0; r >= 0 && i < p->n_blobs; i++) {
                bool dup = false;

                for (size_t j = 0; j < i; j++)
                        dup = dup || digest_equal(&p->blobs[i].digest, &p->blobs[j].digest);
                if (!dup) {
                        char hex[DIGEST_HEX_LEN + 1], path[32 + DIGEST_HEX_LEN];

                        snprintf(path, sizeof(path), "blobs/sha256/%s",
                                 digest_hex(&p->blobs[i].digest, hex));
                        r = tar_blob(a, s, &p->blobs[i], path, archive_path, err);
                }
        }
        if (r >= 0)
                r = tar_bytes(a, "index.json", p->index_json, archive_path, err);
        if (r < 0)
                return r;
        if (archive_write_close(a) != ARCHIVE_OK)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        return 0;
}

/* ---- Docker archives out ---- */

/*
 * What `docker save` and skopeo's docker-archive: write, and `docker load`, `podman load` and
 * skopeo read: the config as <hex>.json (so the image ID, the config digest, survives), each layer
 * uncompressed as <diff_id-hex>.tar, manifest.json [{Config, RepoTags, Layers}] and repositories
 * {repo: {tag: top layer's chain id}}. Docker's legacy per-layer directories (<id>/layer.tar,
 * json, VERSION) are not written: every reader since Docker 1.10 uses manifest.json.
 */

typedef struct LayerHash {
        Hasher *hasher;
        uint64_t bytes;
} LayerHash;

static int block_layer_hash(const char *buf, size_t n, void *userdata, BerthError *err)
{
        LayerHash *h = userdata;

        hasher_update(h->hasher, buf, n);
        h->bytes += n;
        return 0;
}

/* Hand the uncompressed tar of the store layer @b (gzip, zstd or plain) to @block, a block at a time. */
static int layer_tar_blocks(Store *s, const Blob *b, BlockFn block, void *userdata, BerthError *err)
{
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct archive_entry *e;
        char d[DIGEST_STRING_LEN + 1];
        int r;

        digest_format(&b->digest, d);
        r = store_blob_open(s, &b->digest, &fd, err);
        if (r < 0)
                return r;
        a = archive_read_new();
        buf = malloc(COPY_BUF_BYTES);
        if (!a || !buf)
                return -ENOMEM;
        /* Only the filters libarchive runs itself (zlib, libzstd), never an external program. */
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, fd, COPY_BUF_BYTES) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
                return error_setx(err, -EBADMSG, "layer %s: %s", d, archive_error_string(a));
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, COPY_BUF_BYTES);
                if (n == 0)
                        return 0;
                if (n < 0)
                        return error_setx(err, -EBADMSG, "layer %s: %s", d, archive_error_string(a));
                r = block(buf, (size_t)n, userdata, err);
                if (r < 0)
                        return r;
        }
}

/* The uncompressed layer @b as the member @path; its digest must be @diff_id. */
static int tar_layer(struct archive *a, Store *s, const Blob *b, const Digest *diff_id, const char *path,
                     const char *archive_path, BerthError *err)
{
        _cleanup_(hasher_freep) Hasher *h = hasher_new();
        LayerHash count = {.hasher = h};
        char d[DIGEST_STRING_LEN + 1], want[DIGEST_STRING_LEN + 1];
        Digest got;
        int r;

        if (!h)
                return -ENOMEM;
        /* Twice through the decompressor: a tar header needs the size before the data. */
        r = layer_tar_blocks(s, b, block_layer_hash, &count, err);
        if (r < 0)
                return r;
        hasher_final(h, &got);
        if (!digest_equal(&got, diff_id))
                return error_setx(err, -EBADMSG,
                                  "layer %s: uncompressed digest is %s, the config's diff_id %s",
                                  digest_format(&b->digest, d), digest_format(&got, want),
                                  digest_format(diff_id, want));
        r = tar_header(a, path, AE_IFREG, (int64_t)count.bytes, archive_path, err);
        if (r >= 0)
                r = layer_tar_blocks(s, b, block_tar, &(TarWrite){a, archive_path}, err);
        return r;
}

/* manifest.json and repositories for @full (a canonical reference) and its config and layers. */
static int docker_metadata(const char *full, const char *config_path, char **layer_paths, size_t n,
                           const Digest *top_chain_id, char **ret_manifest, char **ret_repositories)
{
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(json_object_putp) json_object *manifest = json_object_new_array(),
                                                *repos = json_object_new_object();
        _cleanup_free_ char *repo = NULL, *tagged = NULL;
        json_object *entry = json_object_new_object(), *tags = json_object_new_array(),
                    *layers = json_object_new_array();
        char hex[DIGEST_HEX_LEN + 1];

        if (!manifest || !repos || !entry || !tags || !layers) {
                json_object_put(entry);
                json_object_put(tags);
                json_object_put(layers);
                return -ENOMEM;
        }
        json_object_array_add(manifest, entry);
        json_object_object_add(entry, "Config", json_object_new_string(config_path));
        json_object_object_add(entry, "RepoTags", tags);
        json_object_object_add(entry, "Layers", layers);
        for (size_t i = 0; i < n; i++)
                json_object_array_add(layers, json_object_new_string(layer_paths[i]));
        if (image_reference_parse(full, &ref, NULL) < 0)
                return -ENOMEM; /* parsed once already: only allocation can fail */
        repo = image_reference_name(ref);
        if (!repo)
                return -ENOMEM;
        /* A name by digest alone has no tag: no RepoTags, no repositories entry (as docker save). */
        if (ref->tag) {
                json_object *tagmap = json_object_new_object();
                if (!tagmap || asprintf(&tagged, "%s:%s", repo, ref->tag) < 0) {
                        json_object_put(tagmap);
                        return -ENOMEM;
                }
                json_object_array_add(tags, json_object_new_string(tagged));
                json_object_object_add(repos, repo, tagmap);
                if (top_chain_id)
                        json_object_object_add(tagmap, ref->tag,
                                               json_object_new_string(digest_hex(top_chain_id, hex)));
        }
        *ret_manifest = strdup(json_object_to_json_string_ext(
                manifest, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        *ret_repositories = strdup(json_object_to_json_string_ext(
                repos, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!*ret_manifest || !*ret_repositories) {
                free(*ret_manifest);
                free(*ret_repositories);
                return -ENOMEM;
        }
        return 0;
}

static int docker_write_plan(const SavePlan *p, Store *s, int fd, const char *archive_path, BerthError *err)
{
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_(json_object_putp) json_object *config = NULL;
        _cleanup_free_ char *manifest_json = NULL, *repositories = NULL;
        _cleanup_(strv_freep) char **layer_paths = NULL;
        const Blob *config_blob = &p->blobs[p->n_blobs - 2];
        size_t n_layers = p->n_blobs - 2;
        json_object *rootfs, *diff_ids;
        char hex[DIGEST_HEX_LEN + 1], config_path[8 + DIGEST_HEX_LEN];
        Digest chain = {};
        int r;

        r = store_json(s, &config_blob->digest, &config, err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(config, "rootfs", &rootfs) ||
            !json_object_object_get_ex(rootfs, "diff_ids", &diff_ids) ||
            json_object_get_type(diff_ids) != json_type_array ||
            json_object_array_length(diff_ids) != n_layers)
                return error_setx(err, -EINVAL, "image config: rootfs.diff_ids does not list the %zu layers",
                                  n_layers);
        a = archive_write_new();
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        snprintf(config_path, sizeof(config_path), "%s.json", digest_hex(&config_blob->digest, hex));
        r = tar_blob(a, s, config_blob, config_path, archive_path, err);
        for (size_t i = 0; r >= 0 && i < n_layers; i++) {
                _cleanup_free_ char *path = NULL;
                Digest diff_id;
                bool dup = false;

                r = digest_parse(json_object_get_string(json_object_array_get_idx(diff_ids, i)), &diff_id,
                                 err);
                if (r < 0)
                        break;
                r = image_chain_id_next(i ? &chain : NULL, &diff_id, &chain);
                if (r < 0 || asprintf(&path, "%s.tar", digest_hex(&diff_id, hex)) < 0) {
                        r = -ENOMEM;
                        break;
                }
                STRV_FOREACH (q, layer_paths)
                        dup = dup || streq(*q, path);
                if (!dup)
                        r = tar_layer(a, s, &p->blobs[i], &diff_id, path, archive_path, err);
                if (r >= 0)
                        r = strv_push(&layer_paths, TAKE_PTR(path));
        }
        if (r >= 0)
                r = docker_metadata(p->full_name, config_path, layer_paths, n_layers,
                                    n_layers ? &chain : NULL, &manifest_json, &repositories);
        if (r >= 0)
                r = tar_bytes(a, "manifest.json", manifest_json, archive_path, err);
        if (r >= 0)
                r = tar_bytes(a, "repositories", repositories, archive_path, err);
        if (r < 0)
                return r;
        if (archive_write_close(a) != ARCHIVE_OK)
                return error_setx(err, -EIO, "\"%s\": %s", archive_path, archive_error_string(a));
        return 0;
}

typedef int (*ArchiveWriteFn)(const SavePlan *p, Store *s, int fd, const char *archive_path,
                              BerthError *err);

/* Write the archive with @write to a temporary file beside @archive, then rename it into place. */
static int archive_save(Store *s, const char *name, const char *archive, ArchiveWriteFn write_fn,
                        BerthError *err)
{
        _cleanup_(save_plan_free) SavePlan *p = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = save_plan(s, name, &p, err);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s.tmp-%d", archive, (int)getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return error_set(err, negative_errno(), "create \"%s\"", tmp);
        r = write_fn(p, s, fd, archive, err);
        if (r >= 0 && fsync(fd) < 0)
                r = error_set(err, negative_errno(), "write \"%s\"", tmp);
        if (r >= 0 && rename(tmp, archive) < 0)
                r = error_set(err, negative_errno(), "rename \"%s\" to \"%s\"", tmp, archive);
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int image_archive_save(Store *s, const char *name, const char *archive, BerthError *err)
{
        return archive_save(s, name, archive, archive_write_plan, err);
}

int image_docker_archive_save(Store *s, const char *name, const char *archive, BerthError *err)
{
        return archive_save(s, name, archive, docker_write_plan, err);
}
