/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Distribution API v2 client: manifests, platform selection, parallel verified blob downloads. */

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "basic/strv.h"
#include "layers.h"
#include "registry-client.h"
#include "registry.h"

#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1       "application/vnd.docker.distribution.manifest.v1"

#define MANIFEST_MAX_BYTES (4U << 20)
#define ERROR_BODY_MAX     (64U << 10)
#define TOKEN_MAX_BYTES    (1U << 20)
#define AUTH_FILE_MAX      (1U << 20)

static const char manifest_accept[] =
        "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST;

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLM *, curl_multi_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/* ---- manifests ---- */

typedef struct Descriptor {
        char *media_type;
        Digest digest;
        int64_t size;
} Descriptor;

static int descriptor_parse(json_object *o, const char *what, Descriptor *ret, BerthError *err)
{
        json_object *mt, *dg, *sz;
        int64_t size;
        int r;

        if (!o || json_object_get_type(o) != json_type_object ||
            !json_object_object_get_ex(o, "digest", &dg) || json_object_get_type(dg) != json_type_string ||
            !json_object_object_get_ex(o, "size", &sz) || json_object_get_type(sz) != json_type_int)
                return error_setx(err, -EPROTO, "%s: descriptor without digest or size", what);
        size = json_object_get_int64(sz);
        if (size < 0 || size == INT64_MAX)
                return error_setx(err, -EPROTO, "%s: descriptor size %" PRId64 " out of range", what, size);
        r = digest_parse(json_object_get_string(dg), &ret->digest, err);
        if (r < 0) {
                error_prefix(err, "%s: ", what);
                return r;
        }
        ret->size = size;
        ret->media_type = NULL;
        if (json_object_object_get_ex(o, "mediaType", &mt) && json_object_get_type(mt) == json_type_string) {
                ret->media_type = strdup(json_object_get_string(mt));
                if (!ret->media_type)
                        return -ENOMEM;
        }
        return 0;
}

/* A manifest as fetched: its bytes, digest and media type. */
typedef struct Manifest {
        StrBuf bytes;
        Digest digest;
        char *media_type;
        json_object *json;
} Manifest;

static void manifest_done(Manifest *m)
{
        strbuf_done(&m->bytes);
        free(m->media_type);
        json_object_put(m->json);
        *m = (Manifest){};
}

static void digest_of(const void *data, size_t n, Digest *ret)
{
        _cleanup_(hasher_freep) Hasher *h = hasher_new();

        /* Out of memory here leaves a zero digest, which never matches a real one. */
        *ret = (Digest){};
        if (!h)
                return;
        hasher_update(h, data, n);
        hasher_final(h, ret);
}

/* client_get() of a small document, tried again whole while it fails in a way that may pass. */
static int client_get_retrying(Client *c, const char *url, const char *accept, size_t body_max,
                               Response *ret, unsigned *ret_attempts, BerthError *err)
{
        unsigned attempt;
        int r;

        for (attempt = 1;; attempt++) {
                r = client_get(c, url, accept, body_max, ret, err);
                if (attempt >= REGISTRY_RETRY_ATTEMPTS ||
                    !(r < 0 ? errno_retryable(r) : http_status_retryable(ret->status)))
                        break;
                if (r >= 0)
                        response_done(ret);
                sleep_msec(retry_delay_msec(attempt));
        }
        *ret_attempts = attempt;
        return r;
}

/* GET a manifest by tag or digest string; checks the digest when @expected is given. */
static int manifest_fetch(Client *c, const char *what, const Digest *expected, int64_t expected_size,
                          Manifest *ret, BerthError *err)
{
        _cleanup_free_ char *url = NULL;
        _cleanup_(response_done) Response resp = {};
        Manifest m = {};
        json_object *mt, *sv;
        char want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
        unsigned attempt;
        int r;

        if (asprintf(&url, "%s/manifests/%s", c->base, what) < 0)
                return -ENOMEM;
        r = client_get_retrying(c, url, manifest_accept, MANIFEST_MAX_BYTES, &resp, &attempt, err);
        if (r < 0) {
                error_note_attempts(err, attempt);
                return r;
        }
        if (resp.status != 200)
                return response_fail(&resp, url, attempt, err);
        if (resp.body.len == 0)
                return error_setx(err, -EPROTO, "GET %s: empty manifest", url);
        m.bytes = resp.body;
        resp.body = (StrBuf)STRBUF_INIT;
        digest_of(m.bytes.ptr, m.bytes.len, &m.digest);
        if (expected && !digest_equal(expected, &m.digest)) {
                manifest_done(&m);
                return error_setx(err, -EBADMSG, "GET %s: manifest digest is %s, expected %s", url,
                                  digest_format(&m.digest, got), digest_format(expected, want));
        }
        /* The registry's own word on the digest, when it gives one, must agree with the bytes. */
        if (resp.content_digest) {
                Digest said;

                if (digest_parse(resp.content_digest, &said, NULL) == 0 && !digest_equal(&said, &m.digest)) {
                        manifest_done(&m);
                        return error_setx(err, -EBADMSG,
                                          "GET %s: manifest digest is %s, the registry's "
                                          "Docker-Content-Digest says %s",
                                          url, digest_format(&m.digest, got), digest_format(&said, want));
                }
        }
        if (expected_size >= 0 && (uint64_t)expected_size != m.bytes.len) {
                size_t len = m.bytes.len;

                manifest_done(&m);
                return error_setx(err, -EBADMSG,
                                  "GET %s: manifest is %zu bytes, its descriptor says %" PRId64, url, len,
                                  expected_size);
        }
        m.json = json_tokener_parse(m.bytes.ptr);
        if (!m.json || json_object_get_type(m.json) != json_type_object) {
                manifest_done(&m);
                return error_setx(err, -EPROTO, "GET %s: manifest is not a JSON object", url);
        }
        if (json_object_object_get_ex(m.json, "schemaVersion", &sv) && json_object_get_int(sv) == 1) {
                manifest_done(&m);
                return error_setx(
                        err, -EOPNOTSUPP,
                        "GET %s: Docker schema 1 manifests are not supported (deprecated; push the "
                        "image again with a current client)",
                        url);
        }
        /* The body's mediaType is covered by the digest; the header is only a fallback. */
        if (json_object_object_get_ex(m.json, "mediaType", &mt) &&
            json_object_get_type(mt) == json_type_string)
                m.media_type = strdup(json_object_get_string(mt));
        else if (resp.content_type)
                m.media_type = strndup(resp.content_type, strcspn(resp.content_type, "; "));
        else if (json_object_object_get_ex(m.json, "manifests", &mt))
                m.media_type = strdup(MT_OCI_INDEX);
        else
                m.media_type = strdup(MT_OCI_MANIFEST);
        if (!m.media_type) {
                manifest_done(&m);
                return -ENOMEM;
        }
        if (strncmp(m.media_type, MT_DOCKER_V1, strlen(MT_DOCKER_V1)) == 0) {
                manifest_done(&m);
                return error_setx(err, -EOPNOTSUPP, "GET %s: Docker schema 1 manifests are not supported",
                                  url);
        }
        if (!streq(m.media_type, MT_OCI_INDEX) && !streq(m.media_type, MT_OCI_MANIFEST) &&
            !streq(m.media_type, MT_DOCKER_LIST) && !streq(m.media_type, MT_DOCKER_MANIFEST)) {
                error_setx(err, -EOPNOTSUPP, "GET %s: unsupported manifest media type \"%s\"", url,
                           m.media_type);
                manifest_done(&m);
                return -EOPNOTSUPP;
        }
        *ret = m;
        return 0;
}

static bool manifest_is_index(const Manifest *m)
{
        return streq(m->media_type, MT_OCI_INDEX) || streq(m->media_type, MT_DOCKER_LIST);
}

static bool json_string_eq(json_object *o, const char *key, const char *want)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) != json_type_string)
                return want[0] == 0;
        return streq(json_object_get_string(v), want);
}

/* The first entry of an index matching the platform (variant only compared when asked for). */
static int index_pick(const Manifest *m, const RegistryPlatform *p, Descriptor *ret, BerthError *err)
{
        json_object *list, *e, *plat;
        size_t n;

        if (!json_object_object_get_ex(m->json, "manifests", &list) ||
            json_object_get_type(list) != json_type_array)
                return error_setx(err, -EPROTO, "index without \"manifests\"");
        n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
                e = json_object_array_get_idx(list, i);
                if (!json_object_object_get_ex(e, "platform", &plat) ||
                    json_object_get_type(plat) != json_type_object)
                        continue;
                if (!json_string_eq(plat, "os", p->os) ||
                    !json_string_eq(plat, "architecture", p->architecture))
                        continue;
                if (p->variant[0] && !json_string_eq(plat, "variant", p->variant))
                        continue;
                return descriptor_parse(e, "index entry", ret, err);
        }
        return error_setx(err, -ENXIO, "no manifest for platform %s/%s%s%s", p->os, p->architecture,
                          p->variant[0] ? "/" : "", p->variant);
}

/* ---- blobs ---- */

typedef struct Transfer {
        Client *client;
        Store *store;
        Descriptor desc;
        CURL *easy;
        struct curl_slist *headers;
        StoreBlobWriter *writer;
        char *url;
        StrBuf error_body;
        long status;               /* of the current response; 0 until read */
        int64_t range_from;        /* this response's Content-Range start; -1 when none */
        bool body_started;         /* the current response's first body byte was seen */
        bool resumable;            /* Accept-Ranges: bytes was advertised, or a 206 came */
        bool failed;               /* failed in a callback: no retry cures it */
        bool waiting;              /* off the multi handle until retry_at_msec */
        bool reauthed;             /* a 401 was answered with a new token once */
        unsigned attempt;          /* 1 for the first GET */
        unsigned token_generation; /* of the token this request carries */
        uint64_t retry_at_msec;
        uint64_t start_msec, end_msec; /* of the download, for its speed; end 0 while it runs */
        char *www_authenticate;        /* of the current response */
        int lock_fd;                   /* store_blob_lock(), or -EBADF */
        const ImageLayer *layer;       /* this blob's layer when it is to be unpacked, or NULL */
        ImageLayerStream *stream;      /* unpacking it while it downloads, or NULL */
        BerthError stream_err;         /* the stream failed: reported once the digest checked out */
        BerthError err;
} Transfer;

static void transfer_done(Transfer *t)
{
        if (t->easy)
                curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        store_blob_writer_free(t->writer);
        free(t->url);
        free(t->desc.media_type);
        free(t->www_authenticate);
        strbuf_done(&t->error_body);
        image_layer_stream_free(t->stream);
        store_blob_unlock(t->store, &t->desc.digest, t->lock_fd);
}

/* The writer cannot rewind: drop what was received and start a new one, and the hash with it. */
static int transfer_restart(Transfer *t)
{
        /* The unpack cannot rewind either: the layer is unpacked from the store afterwards. */
        t->stream = image_layer_stream_free(t->stream);
        t->stream_err = (BerthError){};
        t->writer = store_blob_writer_free(t->writer);
        return store_blob_writer_begin(t->store, t->desc.size, &t->writer, &t->err);
}

/* "bytes N-M/T" -> N, or -1. */
static int64_t content_range_from(const char *v)
{
        unsigned long long from;
        char *end;

        if (strncasecmp(v, "bytes ", 6) != 0 || v[6] < '0' || v[6] > '9')
                return -1;
        errno = 0;
        from = strtoull(v + 6, &end, 10);
        if (errno != 0 || *end != '-' || from >= INT64_MAX)
                return -1;
        return (int64_t)from;
}

static size_t transfer_header_cb(char *data, size_t size, size_t n, void *userdata)
{
        Transfer *t = userdata;
        size_t len = size * n;
        char *v;

        /* A redirect starts a new response: its status and headers are read afresh. */
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                t->status = 0;
                t->range_from = -1;
                t->body_started = false;
                t->www_authenticate = mfree(t->www_authenticate);
        } else if ((v = header_value(data, len, "WWW-Authenticate"))) {
                free(t->www_authenticate);
                t->www_authenticate = v;
        } else if ((v = header_value(data, len, "Accept-Ranges"))) {
                if (strcasecmp(v, "bytes") == 0)
                        t->resumable = true;
                free(v);
        } else if ((v = header_value(data, len, "Content-Range"))) {
                t->range_from = content_range_from(v);
                free(v);
        }
        return len;
}

/* A response's first body byte: a 200 starts the blob over, a 206 must continue it exactly. */
static int transfer_body_begin(Transfer *t)
{
        uint64_t have = store_blob_writer_size(t->writer);

        if (t->status == 206) {
                t->resumable = true;
                if (t->range_from < 0 || (uint64_t)t->range_from != have)
                        return error_setx(&t->err, -EPROTO,
                                          "GET %s: HTTP 206 from byte %" PRId64 ", expected byte %" PRIu64,
                                          t->url, t->range_from, have);
                return 0;
        }
        return have > 0 ? transfer_restart(t) : 0;
}

static size_t transfer_write_cb(char *data, size_t size, size_t n, void *userdata)
{
        Transfer *t = userdata;
        size_t len = size * n;
        int r;

        if (t->status == 0)
                (void)curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
        if (t->status != 200 && t->status != 206) {
                if (t->error_body.len + len <= ERROR_BODY_MAX)
                        strbuf_put(&t->error_body, data, len);
                return len;
        }
        if (!t->body_started) {
                t->body_started = true;
                if (transfer_body_begin(t) < 0) {
                        t->failed = true;
                        return 0;
                }
        }
        r = store_blob_writer_write(t->writer, data, len, &t->err);
        if (r < 0) {
                if (r == -EFBIG) {
                        t->err = (BerthError){};
                        error_setx(&t->err, -EBADMSG, "GET %s: more bytes than the descriptor's %" PRId64,
                                   t->url, t->desc.size);
                }
                t->failed = true;
                return 0;
        }
        if (t->stream && image_layer_stream_write(t->stream, data, len, &t->stream_err) < 0)
                /* Not fatal yet: a digest mismatch explains it better, when there is one. */
                t->stream = image_layer_stream_free(t->stream);
        return len;
}

static int transfer_start(Transfer *t, CURLM *multi, BerthError *err)
{
        char d[DIGEST_STRING_LEN + 1];
        int r;

        if (asprintf(&t->url, "%s/blobs/%s", t->client->base, digest_format(&t->desc.digest, d)) < 0)
                return -ENOMEM;
        r = store_blob_writer_begin(t->store, t->desc.size, &t->writer, err);
        if (r < 0)
                return r;
        t->attempt = 1;
        t->range_from = -1;
        t->start_msec = now_msec();
        t->easy = curl_easy_init();
        if (!t->easy)
                return -ENOMEM;
        r = client_headers(t->client, NULL, &t->headers);
        if (r < 0)
                return r;
        t->token_generation = t->client->token_generation;
        r = client_setup_easy(t->client, t->easy, t->url, t->headers);
        if (r < 0)
                return r;
        (void)curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, transfer_write_cb);
        (void)curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
        (void)curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        /* The status is read again for each response (a redirect's body is not ours). */
        (void)curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, transfer_header_cb);
        (void)curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
                return -ENOMEM;
        return 0;
}

/*
 * Start attempt t->attempt + 1 on the same handle: from the byte already received when the
 * registry can serve ranges (the bytes go on into the same writer and hash), else from scratch.
 */
static int transfer_resend(Transfer *t, CURLM *multi)
{
        uint64_t have = store_blob_writer_size(t->writer);
        char range[32];
        int r;

        t->status = 0;
        t->range_from = -1;
        t->body_started = false;
        t->err = (BerthError){};
        strbuf_done(&t->error_body);
        t->error_body = (StrBuf)STRBUF_INIT;
        if (have > 0 && t->resumable) {
                r = snprintf(range, sizeof(range), "%" PRIu64 "-", have);
                assert(r > 0 && (size_t)r < sizeof(range));
                if (curl_easy_setopt(t->easy, CURLOPT_RANGE, range) != CURLE_OK)
                        return error_setx(&t->err, -ENOMEM, "GET %s", t->url);
        } else {
                (void)curl_easy_setopt(t->easy, CURLOPT_RANGE, NULL);
                if (have > 0) {
                        r = transfer_restart(t);
                        if (r < 0)
                                return r;
                }
        }
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
                return error_setx(&t->err, -ENOMEM, "GET %s", t->url);
        return 0;
}

static int transfer_retry(Transfer *t, CURLM *multi)
{
        t->waiting = false;
        t->attempt++;
        return transfer_resend(t, multi);
}

/*
 * A 401 to a token that worked before (it expired): ask the token server again, unless another
 * transfer already did since this request was sent, and send the request again, once per blob.
 * Returns 1 when the transfer went back on @multi, 0 when a 401 is all there is to say.
 */
static int transfer_reauth(Transfer *t, CURLM *multi)
{
        Client *c = t->client;
        BerthError err = {};
        int r;

        if (t->status != 401 || t->reauthed || !c->token)
                return 0;
        t->reauthed = true;
        if (t->token_generation == c->token_generation) {
                if (!t->www_authenticate || strncasecmp(t->www_authenticate, "Bearer ", 7) != 0)
                        return 0;
                r = client_fetch_token(c, t->www_authenticate + 7, &err);
                if (r < 0) {
                        t->err = err;
                        return r;
                }
        }
        (void)curl_multi_remove_handle(multi, t->easy);
        curl_slist_free_all(t->headers);
        t->headers = NULL;
        r = client_headers(c, NULL, &t->headers);
        if (r < 0)
                return error_set(&t->err, r, "GET %s", t->url);
        t->token_generation = c->token_generation;
        (void)curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
        r = transfer_resend(t, multi);
        return r < 0 ? r : 1;
}

/*
 * After the transfer ended: the result in t->err, with size and digest checked (not committed).
 * *@ret_retryable says whether another attempt may cure a failure.
 */
static int transfer_finish(Transfer *t, CURLcode cc, bool *ret_retryable)
{
        char d[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
        Digest actual;

        *ret_retryable = false;
        if (t->failed)
                return t->err.code ? t->err.code : -EIO;
        if (cc != CURLE_OK) {
                *ret_retryable = curl_retryable(cc);
                return error_setx(&t->err, curl_to_errno(cc), "GET %s: %s", t->url, curl_easy_strerror(cc));
        }
        (void)curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
        if (t->status != 200 && t->status != 206) {
                char why[512];

                *ret_retryable = http_status_retryable(t->status);
                strbuf_putc(&t->error_body, 0);
                describe_http_error(t->status, t->error_body.ptr, t->error_body.len, why, sizeof(why));
                return error_setx(&t->err, http_status_to_errno(t->status), "GET %s: %s", t->url, why);
        }
        /* Too many bytes failed in the write callback: a short body is a transfer cut short. */
        *ret_retryable = store_blob_writer_size(t->writer) < (uint64_t)t->desc.size;
        if (store_blob_writer_size(t->writer) != (uint64_t)t->desc.size)
                return error_setx(&t->err, -EBADMSG,
                                  "GET %s: %" PRIu64 " bytes, the descriptor says %" PRId64, t->url,
                                  store_blob_writer_size(t->writer), t->desc.size);
        /* The store writer's hash, the one pass over the blob: its commit checks it again (no
         * second pass), and the unpack child only counts the bytes (layer_stream_result()). */
        if (store_blob_writer_digest(t->writer, &actual) < 0 || !digest_equal(&actual, &t->desc.digest))
                return error_setx(&t->err, -EBADMSG, "GET %s: content has digest %s, expected %s", t->url,
                                  digest_format(&actual, got), digest_format(&t->desc.digest, d));
        if (t->stream_err.code < 0) {
                t->err = t->stream_err;
                return t->err.code;
        }
        if (t->stream)
                return image_layer_stream_finish(t->stream, &actual, &t->err);
        return 0;
}

static void blobs_report(Transfer *ts, size_t nt, const RegistryPullOptions *o, bool final)
{
        _cleanup_free_ RegistryBlobProgress *p = NULL;

        if (!o->progress || nt == 0)
                return;
        p = calloc(nt, sizeof(*p));
        if (!p)
                return; /* a display without one frame is no failure */
        for (size_t i = 0; i < nt; i++)
                p[i] = (RegistryBlobProgress){
                        .digest = ts[i].desc.digest,
                        .done_bytes = ts[i].writer ? store_blob_writer_size(ts[i].writer) : 0,
                        .total_bytes = (uint64_t)ts[i].desc.size,
                        .elapsed_msec = (ts[i].end_msec ? ts[i].end_msec : now_msec()) - ts[i].start_msec,
                };
        o->progress(p, nt, final, o->progress_userdata);
}

/* Drive the transfers until all have ended or one failed (its index in *@ret_failed). */
static bool pull_cancelled(const RegistryPullOptions *o)
{
        return o->cancel && *o->cancel;
}

static int pull_cancel_error(const Client *c, BerthError *err)
{
        return error_setx(err, -ECANCELED, "%s: interrupted", c->ref->registry);
}

static int blobs_wait(Client *c, CURLM *multi, Transfer *ts, size_t nt, const RegistryPullOptions *o,
                      int *ret_failed, BerthError *err)
{
        uint64_t last_report = 0;
        int running = 0;
        size_t waiting = 0;

        do {
                CURLMsg *msg;
                uint64_t now, next_retry = UINT64_MAX;
                int left, timeout_msec = 100;

                if (pull_cancelled(o))
                        return pull_cancel_error(c, err);
                if (curl_multi_perform(multi, &running) != CURLM_OK)
                        return error_setx(err, -EIO, "%s: transfer failed", c->ref->registry);
                while ((msg = curl_multi_info_read(multi, &left))) {
                        Transfer *t = NULL;
                        bool retryable;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
                        if (transfer_finish(t, msg->data.result, &retryable) >= 0) {
                                t->end_msec = now_msec();
                                continue;
                        }
                        if (transfer_reauth(t, multi) > 0) {
                                running++;
                                continue;
                        }
                        if (retryable && t->attempt < REGISTRY_RETRY_ATTEMPTS) {
                                (void)curl_multi_remove_handle(multi, t->easy);
                                t->waiting = true;
                                t->retry_at_msec = now_msec() + retry_delay_msec(t->attempt);
                                continue;
                        }
                        /* One failure fails the pull: stop at once. */
                        error_note_attempts(&t->err, t->attempt);
                        *ret_failed = (int)(t - ts);
                        return 0;
                }
                now = now_msec();
                waiting = 0;
                for (size_t i = 0; i < nt; i++) {
                        if (!ts[i].waiting)
                                continue;
                        if (ts[i].retry_at_msec <= now) {
                                if (transfer_retry(&ts[i], multi) < 0) {
                                        *ret_failed = (int)i;
                                        return 0;
                                }
                                running++;
                                continue;
                        }
                        waiting++;
                        next_retry = MIN(next_retry, ts[i].retry_at_msec);
                }
                if (o->progress && now - last_report >= 100) {
                        last_report = now;
                        blobs_report(ts, nt, o, false);
                }
                if (next_retry != UINT64_MAX)
                        timeout_msec = (int)MIN(next_retry - now, (uint64_t)timeout_msec);
                if ((running > 0 || waiting > 0) &&
                    curl_multi_poll(multi, NULL, 0, timeout_msec, NULL) != CURLM_OK)
                        return error_setx(err, -EIO, "%s: transfer failed", c->ref->registry);
        } while (running > 0 || waiting > 0);
        blobs_report(ts, nt, o, true);
        return 0;
}

static int transfer_cmp_digest(const void *a, const void *b)
{
        const Transfer *x = *(Transfer *const *)a, *y = *(Transfer *const *)b;

        return memcmp(x->desc.digest.bytes, y->desc.digest.bytes, sizeof(x->desc.digest.bytes));
}

/*
 * Lock the blobs of @ts (in digest order: two pulls waiting for each other's locks could not
 * both hold one the other waits for) and drop those another process stored meanwhile. Returns
 * the transfers left, in their first order.
 */
static int blobs_lock(Store *s, Transfer *ts, size_t nt, RegistryPullResult *res, size_t *ret_nt,
                      BerthError *err)
{
        _cleanup_free_ Transfer **order = NULL;
        size_t k = 0;
        int r;

        order = calloc(nt ? nt : 1, sizeof(Transfer *));
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < nt; i++)
                order[i] = &ts[i];
        qsort(order, nt, sizeof(Transfer *), transfer_cmp_digest);
        for (size_t i = 0; i < nt; i++) {
                r = store_blob_lock(s, &order[i]->desc.digest, &order[i]->lock_fd, err);
                if (r < 0)
                        return r;
                r = store_blob_exists(s, &order[i]->desc.digest);
                if (r < 0)
                        return error_set(err, r, "store");
                if (r > 0) {
                        /* Another pull downloaded it while we waited. */
                        transfer_done(order[i]);
                        *order[i] = (Transfer){.lock_fd = -EBADF};
                        res->blobs_present++;
                }
        }
        for (size_t i = 0; i < nt; i++) {
                if (!ts[i].store)
                        continue;
                if (k != i) {
                        ts[k] = ts[i];
                        ts[i] = (Transfer){.lock_fd = -EBADF};
                }
                k++;
        }
        *ret_nt = k;
        return 0;
}

/*
 * Download every descriptor not yet in the store, up to @parallel at once, and verify each;
 * with @layers (one per descriptor) and o->unpack_root, unpack each layer as it downloads. Only
 * when all have checked out are they committed, in descriptor order, so a failure leaves
 * nothing and the result does not depend on the order transfers finish in. The unpacked layer
 * directories follow their blobs, and the blob locks are released last.
 */
static int blobs_fetch(Client *c, Store *s, Descriptor *descs, size_t n, ImageLayers *layers,
                       const RegistryPullOptions *o, RegistryPullResult *res, BerthError *err)
{
        _cleanup_(curl_multi_cleanupp) CURLM *multi = NULL;
        _cleanup_free_ Transfer *ts = NULL;
        long parallel = o->max_parallel ? (long)o->max_parallel : (long)REGISTRY_PARALLEL_DEFAULT;
        size_t nt = 0;
        int r = 0, first_failed = -1;

        assert(!layers || layers->n_layers == n);
        ts = calloc(n ? n : 1, sizeof(Transfer));
        multi = curl_multi_init();
        if (!ts || !multi)
                return -ENOMEM;
        (void)curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, parallel);
        (void)curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, parallel);

        for (size_t i = 0; i < n; i++) {
                bool dup = false;

                for (size_t j = 0; j < i; j++)
                        if (digest_equal(&descs[j].digest, &descs[i].digest))
                                dup = true;
                if (dup)
                        continue;
                r = store_blob_exists(s, &descs[i].digest);
                if (r < 0) {
                        error_set(err, r, "store");
                        goto out;
                }
                if (r > 0) {
                        res->blobs_present++;
                        continue;
                }
                ts[nt++] = (Transfer){
                        .client = c,
                        .store = s,
                        .desc = descs[i],
                        .error_body = STRBUF_INIT,
                        .lock_fd = -EBADF,
                        .layer = layers && o->unpack_root ? &layers->layers[i] : NULL,
                };
                ts[nt - 1].desc.media_type = NULL;
        }
        r = blobs_lock(s, ts, nt, res, &nt, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < nt; i++) {
                if (ts[i].layer) {
                        r = image_layer_stream_begin(o->unpack_root, ts[i].layer, &ts[i].stream, err);
                        if (r < 0)
                                goto out;
                }
                r = transfer_start(&ts[i], multi, err);
                if (r < 0)
                        goto out;
        }

        r = blobs_wait(c, multi, ts, nt, o, &first_failed, err);
        if (r < 0)
                goto out;
        if (first_failed >= 0 && !pull_cancelled(o)) {
                Transfer *t = &ts[first_failed];

                r = t->err.code ? t->err.code : -EIO;
                *err = t->err;
                goto out;
        }
        if (pull_cancelled(o)) {
                r = pull_cancel_error(c, err);
                goto out;
        }
        for (size_t i = 0; i < nt; i++) {
                r = store_blob_writer_commit(ts[i].writer, &ts[i].desc.digest, err);
                if (r < 0)
                        goto out;
                res->blobs_fetched++;
                res->bytes_fetched += (uint64_t)ts[i].desc.size;
        }
        if (layers && nt > 0) {
                _cleanup_free_ ImageLayerStream **streams =
                        calloc(layers->n_layers, sizeof(ImageLayerStream *));
                unsigned streamed = 0;

                if (!streams) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < nt; i++)
                        if (ts[i].stream)
                                streams[ts[i].layer - layers->layers] = ts[i].stream;
                /* Bottom first, with every layer below in place: a streamed layer's directories
                 * made for a name's parent are fixed up from them (the child could not see them),
                 * and the layers that could not stream are unpacked from the store here. */
                r = image_layers_prepare_streamed(s, o->unpack_root, layers, streams, &streamed, err);
                if (r < 0)
                        goto out;
                res->layers_streamed += streamed;
        }
        r = 0;
out:
        for (size_t i = 0; i < nt; i++) {
                if (ts[i].easy)
                        (void)curl_multi_remove_handle(multi, ts[i].easy);
                transfer_done(&ts[i]);
        }
        return r;
}

static int store_bytes(Store *s, const void *data, size_t len, const Digest *d, BerthError *err)
{
        _cleanup_(store_blob_writer_freep) StoreBlobWriter *w = NULL;
        int r;

        r = store_blob_writer_begin(s, (int64_t)len, &w, err);
        if (r < 0)
                return r;
        r = store_blob_writer_write(w, data, len, err);
        if (r < 0)
                return r;
        return store_blob_writer_commit(w, d, err);
}

/* The image config: from the store when it is there, else downloaded into memory and checked
 * (stored with the manifests, at the end). *@ret_fetched says which. */
static int config_fetch(Client *c, Store *s, const Descriptor *d, char **ret, size_t *ret_len,
                        bool *ret_fetched, BerthError *err)
{
        _cleanup_free_ char *url = NULL;
        _cleanup_(response_done) Response resp = {};
        char want[DIGEST_STRING_LEN + 1], got[DIGEST_STRING_LEN + 1];
        unsigned attempt;
        Digest actual;
        int r;

        r = store_blob_exists(s, &d->digest);
        if (r < 0)
                return error_set(err, r, "store");
        if (r > 0) {
                *ret_fetched = false;
                return store_blob_read(s, &d->digest, MANIFEST_MAX_BYTES, ret, ret_len, err);
        }
        if (asprintf(&url, "%s/blobs/%s", c->base, digest_format(&d->digest, want)) < 0)
                return -ENOMEM;
        if (d->size > (int64_t)MANIFEST_MAX_BYTES)
                return error_setx(err, -EFBIG, "GET %s: a config of %" PRId64 " bytes is too large", url,
                                  d->size);
        r = client_get_retrying(c, url, NULL, MANIFEST_MAX_BYTES, &resp, &attempt, err);
        if (r < 0) {
                error_note_attempts(err, attempt);
                return r;
        }
        if (resp.status != 200)
                return response_fail(&resp, url, attempt, err);
        if (resp.body.len != (uint64_t)d->size)
                return error_setx(err, -EBADMSG, "GET %s: %zu bytes, the descriptor says %" PRId64, url,
                                  resp.body.len, d->size);
        digest_of(resp.body.ptr, resp.body.len, &actual);
        if (!digest_equal(&actual, &d->digest))
                return error_setx(err, -EBADMSG, "GET %s: content has digest %s, expected %s", url,
                                  digest_format(&actual, got), want);
        *ret_len = resp.body.len;
        *ret = strbuf_steal(&resp.body);
        *ret_fetched = true;
        return *ret ? 0 : -ENOMEM;
}

/* ---- the pull ---- */

static void descriptors_free(Descriptor *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(d[i].media_type);
        free(d);
}

/* The config and layer descriptors of an image manifest. */
static int manifest_blobs(const Manifest *m, Descriptor **ret, size_t *ret_n, BerthError *err)
{
        json_object *config, *layers;
        Descriptor *d;
        size_t n;
        int r;

        if (!json_object_object_get_ex(m->json, "config", &config) ||
            !json_object_object_get_ex(m->json, "layers", &layers) ||
            json_object_get_type(layers) != json_type_array)
                return error_setx(err, -EPROTO, "manifest without \"config\" or \"layers\"");
        n = json_object_array_length(layers) + 1;
        d = calloc(n, sizeof(Descriptor));
        if (!d)
                return -ENOMEM;
        r = descriptor_parse(config, "config", &d[0], err);
        for (size_t i = 1; r >= 0 && i < n; i++)
                r = descriptor_parse(json_object_array_get_idx(layers, i - 1), "layer", &d[i], err);
        if (r < 0) {
                descriptors_free(d, n);
                return r;
        }
        *ret = d;
        *ret_n = n;
        return 0;
}

static int pull_image(Client *c, Store *s, const RegistryPullOptions *o, RegistryPullResult *res,
                      BerthError *err)
{
        _cleanup_(manifest_done) Manifest top = {}, image = {};
        _cleanup_(image_layers_done) ImageLayers layers = {};
        _cleanup_free_ char *name = NULL, *config = NULL;
        Descriptor *blobs = NULL;
        size_t n_blobs = 0, config_len = 0;
        char d[DIGEST_STRING_LEN + 1];
        const Manifest *img;
        Digest config_digest;
        bool config_fetched = false;
        int r;

        r = manifest_fetch(c, c->ref->has_digest ? digest_format(&c->ref->digest, d) : c->ref->tag,
                           c->ref->has_digest ? &c->ref->digest : NULL, -1, &top, err);
        if (r < 0)
                return r;
        res->top = top.digest;
        img = &top;
        if (manifest_is_index(&top)) {
                Descriptor pick = {};

                r = index_pick(&top, &o->platform, &pick, err);
                free(pick.media_type);
                if (r < 0) {
                        error_prefix(err, "%s: ", c->ref->registry);
                        return r;
                }
                r = manifest_fetch(c, digest_format(&pick.digest, d), &pick.digest, pick.size, &image, err);
                if (r < 0)
                        return r;
                if (manifest_is_index(&image))
                        return error_setx(err, -EPROTO, "%s: an index entry is another index", d);
                img = &image;
        }
        res->manifest = img->digest;

        r = manifest_blobs(img, &blobs, &n_blobs, err);
        if (r < 0) {
                error_prefix(err, "manifest %s: ", digest_format(&img->digest, d));
                return r;
        }
        /* The config first: its diff_ids name the layer directories to unpack into. */
        r = config_fetch(c, s, &blobs[0], &config, &config_len, &config_fetched, err);
        if (r >= 0 && o->unpack_root) {
                r = image_layers_parse(img->bytes.ptr, config, &layers, err);
                if (r < 0)
                        error_prefix(err, "manifest %s: ", digest_format(&img->digest, d));
        }
        if (r >= 0)
                r = blobs_fetch(c, s, blobs + 1, n_blobs - 1, o->unpack_root ? &layers : NULL, o, res, err);
        config_digest = blobs[0].digest;
        descriptors_free(blobs, n_blobs);
        if (r < 0)
                return r;

        /* Config and manifests after the layers, the name last: whatever a name points to is complete. */
        if (config_fetched) {
                r = store_bytes(s, config, config_len, &config_digest, err);
                if (r < 0)
                        return r;
                res->blobs_fetched++;
                res->bytes_fetched += config_len;
        } else
                res->blobs_present++;
        if (o->unpack_root) {
                /* What could not be unpacked while it downloaded: blobs already stored, downloads
                 * that started over. */
                r = image_layers_prepare(s, o->unpack_root, &layers, err);
                if (r < 0)
                        return r;
                res->layers_unpacked = layers.unpacked;
        }
        if (img != &top) {
                r = store_bytes(s, img->bytes.ptr, img->bytes.len, &img->digest, err);
                if (r < 0)
                        return r;
        }
        r = store_bytes(s, top.bytes.ptr, top.bytes.len, &top.digest, err);
        if (r < 0)
                return r;
        name = image_reference_format(c->ref);
        if (!name)
                return -ENOMEM;
        return store_name_set(s, name, &img->digest, err);
}

int registry_pull(Store *s, const ImageReference *ref, const RegistryPullOptions *o, RegistryPullResult *ret,
                  BerthError *err)
{
        _cleanup_(client_done) Client c = {.ref = ref};
        _cleanup_(strv_freep) char **insecure = NULL;
        _cleanup_close_ int gc_lock = -EBADF;
        RegistryPullResult res = {};
        const char *conf;
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return error_setx(err, -ENOMEM, "libcurl initialisation failed");
        conf = o->registries_conf ? o->registries_conf : getenv(REGISTRY_CONF_ENV);
        r = registry_conf_load(conf && *conf ? conf : REGISTRY_CONF_DEFAULT, &insecure, err);
        if (r < 0)
                return r;
        STRV_FOREACH (e, o->insecure_registries) {
                r = strv_extend(&insecure, *e);
                if (r < 0)
                        return r;
        }
        c.plain_http = !o->tls_verify || registry_is_insecure(ref->endpoint, insecure);
        c.tls_verify = o->tls_verify;
        if (asprintf(&c.base, "%s://%s/v2/%s", c.plain_http ? "http" : "https", ref->endpoint,
                     ref->repository) < 0)
                return -ENOMEM;
        c.credentials = credentials_lookup(o, ref->registry);

        /* Shared: a prune must not take the blobs and layer directories this pull finds present
         * before the name that keeps them is set. */
        r = store_gc_lock(s, false, NULL, NULL, &gc_lock, err);
        if (r < 0)
                return r;
        r = pull_image(&c, s, o, &res, err);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}
