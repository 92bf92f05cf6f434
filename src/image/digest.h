/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Content digests as the OCI image spec writes them: "sha256:" and 64 lowercase hex digits.
 * Only sha256 is accepted (sha512 is allowed by the spec but used by no registry we know of;
 * refusing it is a clear message, not a silent mismatch). Hashing is OpenSSL's (SHA-NI).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

#define DIGEST_HEX_LEN    64
#define DIGEST_STRING_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

typedef struct Digest {
        uint8_t bytes[32];
} Digest;

/**
 * digest_parse() - parse "sha256:<64 lowercase hex>". Anything else (another algorithm, upper
 * case, a short or long hex part) is -EINVAL with a message quoting the text in @err.
 */
int digest_parse(const char *s, Digest *ret, BerthError *err);

/** digest_format() - "sha256:<hex>" into @buf (at least DIGEST_STRING_LEN + 1 bytes). */
const char *digest_format(const Digest *d, char buf[static DIGEST_STRING_LEN + 1]);

/** digest_hex() - only the 64 hex digits (a blob's file name) into @buf (at least 65 bytes). */
const char *digest_hex(const Digest *d, char buf[static DIGEST_HEX_LEN + 1]);

static inline bool digest_equal(const Digest *a, const Digest *b)
{
        for (size_t i = 0; i < sizeof(a->bytes); i++)
                if (a->bytes[i] != b->bytes[i])
                        return false;
        return true;
}

/* A running SHA-256 over a stream. */
typedef struct Hasher Hasher;

/** hasher_new() - a fresh SHA-256, or NULL when out of memory. */
Hasher *hasher_new(void);

/** hasher_update() - add @n bytes. */
void hasher_update(Hasher *h, const void *data, size_t n);

/** hasher_final() - the digest of everything added; @h can be used again after hasher_reset(). */
void hasher_final(Hasher *h, Digest *ret);

/** hasher_reset() - start over. */
void hasher_reset(Hasher *h);

/** hasher_free() - free; accepts NULL, returns NULL. */
Hasher *hasher_free(Hasher *h);

static inline void hasher_freep(Hasher **h)
{
        hasher_free(*h);
}
