/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The HTTP side of the registry client (internal to registry*.c): one Client per pull (the
 * repository's base URL, the bearer token or basic credentials, TLS), GETs that answer the
 * WWW-Authenticate challenges, the retry policy, and errors turned into -errno and one line.
 */

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/strbuf.h"
#include "reference.h"
#include "registry.h"

/* One pull's connection to one repository. */
typedef struct Client {
        const ImageReference *ref;
        char *base;        /* "https://host:port/v2/<repository>" */
        char *token;       /* bearer token once a challenge was answered */
        char *credentials; /* "user:password" from the auth file, or NULL */
        bool use_basic;    /* the registry asked for Basic auth */
        bool tls_verify;
        bool plain_http;
        unsigned token_generation; /* counts the tokens fetched, to tell a stale one */
} Client;

void client_done(Client *c);

/* One HTTP response as far as we keep it. */
typedef struct Response {
        long status;
        StrBuf body;
        size_t body_max;
        bool too_big;
        char *content_type;
        char *www_authenticate;
        char *content_digest; /* Docker-Content-Digest */
} Response;

void response_done(Response *r);

/* The value of header @name in the raw header @line (@n bytes), a new string; NULL if another. */
char *header_value(const char *line, size_t n, const char *name);

/* ---- requests ---- */

/* The URL, TLS and redirect settings of every request of @c on @h, with @headers. */
int client_setup_easy(Client *c, CURL *h, const char *url, struct curl_slist *headers);

/* Headers for a registry request: Accept (may be NULL) and the bearer token when we have one. */
int client_headers(Client *c, const char *accept, struct curl_slist **ret);

/* Answer a Bearer challenge: GET realm?service=..&scope=.., keep "token" (or "access_token"). */
int client_fetch_token(Client *c, const char *challenge, BerthError *err);

/* A registry GET with auth: on 401 answer the challenge and retry once. */
int client_get(Client *c, const char *url, const char *accept, size_t body_max, Response *ret,
               BerthError *err);

/* "user:password" for @registry from a Docker/containers auth file, or NULL when none. */
char *credentials_lookup(const RegistryPullOptions *o, const char *registry);

/* ---- errors ---- */

int curl_to_errno(CURLcode cc);
int http_status_to_errno(long status);

/* "STATUS: CODE: message" from a Distribution JSON error body, or the HTTP status alone. */
void describe_http_error(long status, const char *body, size_t len, char *buf, size_t n);

/* "GET URL: STATUS: CODE: message" for a manifest or config request that did not get 200. */
int response_fail(const Response *resp, const char *url, unsigned attempt, BerthError *err);

/* Say in the error how many attempts it took, once there was more than one. */
void error_note_attempts(BerthError *err, unsigned attempts);

/* ---- retries (REGISTRY_RETRY_* in registry.h) ---- */

uint64_t now_msec(void);
void sleep_msec(uint64_t ms);

/* The wait after failed attempt @attempt (from 1): base, 2 x base, 4 x base, ... No jitter, so
 * a pull's timing is reproducible; the attempt count bounds the total. */
uint64_t retry_delay_msec(unsigned attempt);

/* Transport failures that another attempt may cure: the registry dropped, stalled or restarted. */
bool curl_retryable(CURLcode cc);
bool errno_retryable(int r);
bool http_status_retryable(long status);
