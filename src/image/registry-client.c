/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's HTTP side: requests, auth challenges, credentials, retries (see registry-client.h).
 */

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
#include "registry-client.h"

#define TOKEN_MAX_BYTES (1U << 20)
#define AUTH_FILE_MAX   (1U << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static void curl_freep(char **p)
{
        curl_free(*p);
}

void client_done(Client *c)
{
        free(c->base);
        free(c->token);
        if (c->credentials)
                explicit_bzero(c->credentials, strlen(c->credentials));
        free(c->credentials);
}

void response_done(Response *r)
{
        strbuf_done(&r->body);
        free(r->content_type);
        free(r->www_authenticate);
        free(r->content_digest);
        *r = (Response){};
}

char *header_value(const char *line, size_t n, const char *name)
{
        size_t k = strlen(name);
        const char *v, *end;

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return NULL;
        v = line + k + 1;
        end = line + n;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        return strndup(v, end - v);
}

static size_t response_header_cb(char *data, size_t size, size_t n, void *userdata)
{
        Response *r = userdata;
        size_t len = size * n;
        char *v;

        /* A redirect starts a new header block: keep only the last response's headers. */
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                r->content_type = mfree(r->content_type);
                r->www_authenticate = mfree(r->www_authenticate);
                r->content_digest = mfree(r->content_digest);
        }
        if ((v = header_value(data, len, "Content-Type"))) {
                free(r->content_type);
                r->content_type = v;
        } else if ((v = header_value(data, len, "WWW-Authenticate"))) {
                free(r->www_authenticate);
                r->www_authenticate = v;
        } else if ((v = header_value(data, len, "Docker-Content-Digest"))) {
                free(r->content_digest);
                r->content_digest = v;
        }
        return len;
}

static size_t response_body_cb(char *data, size_t size, size_t n, void *userdata)
{
        Response *r = userdata;
        size_t len = size * n;

        if (r->body.len + len > r->body_max) {
                r->too_big = true;
                return 0;
        }
        strbuf_put(&r->body, data, len);
        return strbuf_failed(&r->body) ? 0 : len;
}

int curl_to_errno(CURLcode cc)
{
        switch (cc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
                return -ECONNABORTED;
        default:
                return -EIO;
        }
}

int http_status_to_errno(long status)
{
        if (status == 404)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        return -EPROTO;
}

/* "STATUS: CODE: message" from a Distribution JSON error body, or the HTTP status alone. */
void describe_http_error(long status, const char *body, size_t len, char *buf, size_t n)
{
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *errors, *e, *code, *msg;
        int k;

        k = snprintf(buf, n, "HTTP %ld", status);
        if (k < 0 || (size_t)k >= n || !body || len == 0)
                return;
        root = json_tokener_parse(body);
        if (!root || !json_object_object_get_ex(root, "errors", &errors) ||
            json_object_get_type(errors) != json_type_array || json_object_array_length(errors) == 0)
                return;
        e = json_object_array_get_idx(errors, 0);
        if (!json_object_object_get_ex(e, "code", &code))
                code = NULL;
        if (!json_object_object_get_ex(e, "message", &msg))
                msg = NULL;
        snprintf(buf + k, n - k, ": %s: %s", code ? json_object_get_string(code) : "?",
                 msg ? json_object_get_string(msg) : "?");
}

int client_setup_easy(Client *c, CURL *h, const char *url, struct curl_slist *headers)
{
        if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
                return -ENOMEM;
        (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        (void)curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        (void)curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* A stalled transfer (under 1 byte/s for 60 s) is an error, not a hang. */
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        (void)curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
        (void)curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
        if (!c->tls_verify) {
                (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (c->use_basic && c->credentials && !c->token) {
                (void)curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                (void)curl_easy_setopt(h, CURLOPT_USERPWD, c->credentials);
        }
        if (headers)
                (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        return 0;
}

/* Headers for a registry request: Accept (may be NULL) and the bearer token when we have one. */
int client_headers(Client *c, const char *accept, struct curl_slist **ret)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *l = NULL;
        struct curl_slist *t;

        if (accept) {
                t = curl_slist_append(l, accept);
                if (!t)
                        return -ENOMEM;
                l = t;
        }
        if (c->token) {
                _cleanup_free_ char *auth = NULL;

                if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0)
                        return -ENOMEM;
                t = curl_slist_append(l, auth);
                explicit_bzero(auth, strlen(auth));
                if (!t)
                        return -ENOMEM;
                l = t;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* What to add to a TLS failure of a registry request: it may be a plain-HTTP registry. */
static const char *tls_hint(const Client *c, const char *url, CURLcode cc)
{
        if (c->plain_http || strncmp(url, "https://", 8) != 0 ||
            (cc != CURLE_SSL_CONNECT_ERROR && cc != CURLE_PEER_FAILED_VERIFICATION))
                return "";
        return " (TLS failed; a registry that serves plain HTTP must be listed as insecure: "
               "--insecure-registry or " REGISTRY_CONF_DEFAULT ")";
}

/* A GET whose body is kept in memory (manifests, tokens), without auth retries. */
static int http_get_once(Client *c, const char *url, const char *accept, bool registry_auth, size_t body_max,
                         Response *ret, BerthError *err)
{
        _cleanup_(curl_easy_cleanupp) CURL *h = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        Response resp = {.body_max = body_max};
        CURLcode cc;
        int r;

        h = curl_easy_init();
        if (!h)
                return error_set(err, -ENOMEM, "GET %s", url);
        if (registry_auth) {
                r = client_headers(c, accept, &headers);
                if (r < 0)
                        return error_set(err, r, "GET %s", url);
        }
        r = client_setup_easy(c, h, url, headers);
        if (r < 0)
                return error_set(err, r, "GET %s", url);
        (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, response_header_cb);
        (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
        (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, response_body_cb);
        (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
        cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
                bool too_big = resp.too_big;

                response_done(&resp);
                if (too_big)
                        return error_setx(err, -EFBIG, "GET %s: response larger than %zu bytes", url,
                                          body_max);
                return error_setx(err, curl_to_errno(cc), "GET %s: %s%s", url, curl_easy_strerror(cc),
                                  tls_hint(c, url, cc));
        }
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
        if (strbuf_failed(&resp.body)) {
                response_done(&resp);
                return error_set(err, -ENOMEM, "GET %s", url);
        }
        *ret = resp;
        return 0;
}

/* Answer a Bearer challenge: GET realm?service=..&scope=.., keep "token" (or "access_token"). */
int client_fetch_token(Client *c, const char *challenge, BerthError *err)
{
        _cleanup_free_ char *realm = NULL, *service = NULL, *scope = NULL, *url = NULL;
        _cleanup_(response_done) Response resp = {};
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(curl_easy_cleanupp) CURL *esc = NULL;
        StrBuf u = STRBUF_INIT;
        json_object *tok;
        int r;

        realm = registry_challenge_param(challenge, "realm");
        if (!realm || (strncmp(realm, "https://", 8) != 0 && strncmp(realm, "http://", 7) != 0))
                return error_setx(err, -EPROTO, "%s: bearer challenge without a usable realm: %s",
                                  c->ref->registry, challenge);
        service = registry_challenge_param(challenge, "service");
        scope = registry_challenge_param(challenge, "scope");
        if (!scope && asprintf(&scope, "repository:%s:pull", c->ref->repository) < 0)
                return -ENOMEM;
        esc = curl_easy_init();
        if (!esc)
                return -ENOMEM;
        strbuf_puts(&u, realm);
        strbuf_putc(&u, strchr(realm, '?') ? '&' : '?');
        if (service) {
                _cleanup_(curl_freep) char *s = curl_easy_escape(esc, service, 0);

                strbuf_printf(&u, "service=%s&", s ? s : "");
        }
        {
                _cleanup_(curl_freep) char *s = curl_easy_escape(esc, scope, 0);

                strbuf_printf(&u, "scope=%s", s ? s : "");
        }
        url = strbuf_steal(&u);
        if (!url)
                return -ENOMEM;

        /* The token server gets the user's credentials as Basic auth, if any. */
        {
                bool saved_basic = c->use_basic;
                char *saved_token = c->token;

                c->use_basic = true;
                c->token = NULL;
                r = http_get_once(c, url, NULL, false, TOKEN_MAX_BYTES, &resp, err);
                c->use_basic = saved_basic;
                c->token = saved_token;
        }
        if (r < 0)
                return r;
        if (resp.status != 200) {
                char why[512];

                describe_http_error(resp.status, resp.body.ptr, resp.body.len, why, sizeof(why));
                return error_setx(err, http_status_to_errno(resp.status), "GET token %s: %s", realm, why);
        }
        root = json_tokener_parse(resp.body.ptr ? resp.body.ptr : "");
        if (!root ||
            (!json_object_object_get_ex(root, "token", &tok) &&
             !json_object_object_get_ex(root, "access_token", &tok)) ||
            json_object_get_type(tok) != json_type_string)
                return error_setx(err, -EPROTO, "GET token %s: no token in the response", realm);
        free(c->token);
        c->token = strdup(json_object_get_string(tok));
        c->token_generation++;
        return c->token ? 0 : -ENOMEM;
}

/* Handle a 401: answer its challenge once. Returns 1 when a retry may succeed, 0 when not. */
static int client_answer_challenge(Client *c, const Response *resp, bool *answered, BerthError *err)
{
        const char *ch = resp->www_authenticate;
        int r;

        if (*answered || !ch)
                return 0;
        *answered = true;
        if (strncasecmp(ch, "Bearer ", 7) == 0) {
                r = client_fetch_token(c, ch + 7, err);
                return r < 0 ? r : 1;
        }
        if (strncasecmp(ch, "Basic", 5) == 0 && c->credentials) {
                c->use_basic = true;
                return 1;
        }
        return 0;
}

/* A registry GET with auth: on 401 answer the challenge and retry once. */
int client_get(Client *c, const char *url, const char *accept, size_t body_max, Response *ret,
               BerthError *err)
{
        bool answered = false;
        int r;

        for (;;) {
                Response resp = {};

                r = http_get_once(c, url, accept, true, body_max, &resp, err);
                if (r < 0)
                        return r;
                if (resp.status == 401) {
                        r = client_answer_challenge(c, &resp, &answered, err);
                        if (r < 0) {
                                response_done(&resp);
                                return r;
                        }
                        if (r > 0) {
                                response_done(&resp);
                                continue;
                        }
                }
                *ret = resp;
                return 0;
        }
}

/* ---- retries ---- */

uint64_t now_msec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The backoff base: $BERTH_PULL_RETRY_BASE_MS when it is a valid number of ms, else 200 ms. */
static uint64_t retry_base_msec(void)
{
        const char *e = getenv(REGISTRY_RETRY_BASE_ENV);
        unsigned long long v;
        char *end;

        if (!e || *e < '0' || *e > '9')
                return REGISTRY_RETRY_BASE_MSEC;
        errno = 0;
        v = strtoull(e, &end, 10);
        if (errno != 0 || *end != 0 || v > REGISTRY_RETRY_BASE_MSEC_LIMIT)
                return REGISTRY_RETRY_BASE_MSEC;
        return v;
}

/* The wait after failed attempt @attempt (from 1): base, 2 x base, 4 x base, ... No jitter, so
 * a pull's timing is reproducible; the attempt count bounds the total. */
uint64_t retry_delay_msec(unsigned attempt)
{
        assert(attempt >= 1 && attempt < REGISTRY_RETRY_ATTEMPTS);
        return retry_base_msec() << (attempt - 1);
}

void sleep_msec(uint64_t ms)
{
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Transport failures that another attempt may cure: the registry dropped, stalled or restarted. */
bool curl_retryable(CURLcode cc)
{
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

bool errno_retryable(int r)
{
        return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EIO;
}

bool http_status_retryable(long status)
{
        return status >= 500 || status == 429;
}

/* Say in the error how many attempts it took, once there was more than one. */
void error_note_attempts(BerthError *err, unsigned attempts)
{
        size_t len;

        if (!err || attempts <= 1)
                return;
        len = strlen(err->msg);
        (void)snprintf(err->msg + len, sizeof(err->msg) - len, " (after %u attempts)", attempts);
}

/* "GET URL: STATUS: CODE: message" for a manifest or config request that did not get 200. */
int response_fail(const Response *resp, const char *url, unsigned attempt, BerthError *err)
{
        int r = http_status_to_errno(resp->status);
        char why[512];

        describe_http_error(resp->status, resp->body.ptr, resp->body.len, why, sizeof(why));
        error_setx(err, r, "GET %s: %s", url, why);
        error_note_attempts(err, attempt);
        return r;
}

/* ---- credentials ---- */

static char *auth_file_path(const RegistryPullOptions *o)
{
        const char *e = o->auth_file ? o->auth_file : getenv("REGISTRY_AUTH_FILE");
        const char *home;
        char *p;

        if (e && *e)
                return strdup(e);
        home = getenv("HOME");
        if (!home || !*home)
                return NULL;
        if (asprintf(&p, "%s/.docker/config.json", home) < 0)
                return NULL;
        return p;
}

/* "user:password" for @registry from a Docker/containers auth file, or NULL when none. */
char *credentials_lookup(const RegistryPullOptions *o, const char *registry)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *auths, *entry, *auth;
        const char *keys[3];
        unsigned char *out;
        size_t len, b64len;
        int n;

        path = auth_file_path(o);
        if (!path || read_full_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &data, &len) < 0)
                return NULL;
        root = json_tokener_parse(data);
        explicit_bzero(data, len);
        if (!root || !json_object_object_get_ex(root, "auths", &auths))
                return NULL;
        /* Docker writes Docker Hub as its v1 URL. */
        keys[0] = registry;
        keys[1] = streq(registry, "docker.io") ? "https://index.docker.io/v1/" : NULL;
        keys[2] = NULL;
        for (size_t i = 0; keys[i]; i++) {
                if (!json_object_object_get_ex(auths, keys[i], &entry) ||
                    !json_object_object_get_ex(entry, "auth", &auth) ||
                    json_object_get_type(auth) != json_type_string)
                        continue;
                b64len = strlen(json_object_get_string(auth));
                out = malloc(b64len / 4 * 3 + 4);
                if (!out)
                        return NULL;
                n = EVP_DecodeBlock(out, (const unsigned char *)json_object_get_string(auth), (int)b64len);
                if (n < 0 || b64len % 4 != 0) {
                        free(out);
                        return NULL;
                }
                /* EVP_DecodeBlock counts padding as zero bytes. */
                while (n > 0 && b64len >= 1 && out[n - 1] == 0)
                        n--;
                out[n] = 0;
                if (!memchr(out, ':', n)) {
                        free(out);
                        return NULL;
                }
                return (char *)out;
        }
        return NULL;
}
