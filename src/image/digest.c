/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int digest_parse(const char *s, Digest *ret, BerthError *err)
{
        const char *hex;

        assert(s && ret);
        if (strncmp(s, "sha256:", 7) != 0)
                return error_setx(err, -EINVAL, "digest \"%.80s\": not sha256:<64 hex digits>", s);
        hex = s + 7;
        if (strlen(hex) != DIGEST_HEX_LEN)
                return error_setx(err, -EINVAL, "digest \"%.80s\": expected 64 hex digits after sha256:", s);
        for (size_t i = 0; i < 32; i++) {
                int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return error_setx(err, -EINVAL, "digest \"%.80s\": not lowercase hex", s);
                ret->bytes[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

const char *digest_hex(const Digest *d, char buf[static DIGEST_HEX_LEN + 1])
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < 32; i++) {
                buf[2 * i] = digits[d->bytes[i] >> 4];
                buf[2 * i + 1] = digits[d->bytes[i] & 15];
        }
        buf[DIGEST_HEX_LEN] = '\0';
        return buf;
}

const char *digest_format(const Digest *d, char buf[static DIGEST_STRING_LEN + 1])
{
        memcpy(buf, "sha256:", 7);
        digest_hex(d, buf + 7);
        return buf;
}

struct Hasher {
        EVP_MD_CTX *ctx;
};

Hasher *hasher_new(void)
{
        Hasher *h = calloc(1, sizeof(*h));

        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
                return hasher_free(h);
        return h;
}

void hasher_update(Hasher *h, const void *data, size_t n)
{
        int ok = EVP_DigestUpdate(h->ctx, data, n);

        assert(ok == 1);
        (void)ok;
}

void hasher_final(Hasher *h, Digest *ret)
{
        unsigned len = 0;
        int ok = EVP_DigestFinal_ex(h->ctx, ret->bytes, &len);

        assert(ok == 1 && len == 32);
        (void)ok;
}

void hasher_reset(Hasher *h)
{
        int ok = EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);

        assert(ok == 1);
        (void)ok;
}

Hasher *hasher_free(Hasher *h)
{
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}
