/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "quantity.h"

/* The most fraction or exponent digits that can matter: 10^39 exceeds any 128-bit value. */
#define QUANTITY_DECIMAL_MAX 39

typedef struct Suffix {
        const char *text;
        unsigned binary_shift; /* value *= 2^binary_shift */
        int decimal_exp;       /* value *= 10^decimal_exp */
} Suffix;

static const Suffix suffixes[] = {
        {"", 0, 0},    {"m", 0, -3},  {"k", 0, 3},   {"M", 0, 6},   {"G", 0, 9},
        {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},  {"Ki", 10, 0}, {"Mi", 20, 0},
        {"Gi", 30, 0}, {"Ti", 40, 0}, {"Pi", 50, 0}, {"Ei", 60, 0},
};

/* The number as written: digits (fraction digits without trailing zeros) and where the point was. */
typedef struct Mantissa {
        unsigned __int128 digits;
        int decimal_exp; /* value = digits * 10^decimal_exp */
} Mantissa;

static bool digits_append(Mantissa *m, char c)
{
        /* Any mantissa over 2^64 makes the result overflow unless a large negative exponent
         * follows, which would make it a fraction anyway: refuse it as out of range. */
        if (m->digits > UINT64_MAX)
                return false;
        m->digits = m->digits * 10 + (unsigned)(c - '0');
        return true;
}

/* Parse "123", "1.5", ".5", "5." into @m; returns the first unparsed character, NULL if no digit. */
static const char *mantissa_parse(const char *p, Mantissa *m, bool *ret_too_large)
{
        const char *frac_end;
        bool any = false;

        *m = (Mantissa){};
        for (; *p >= '0' && *p <= '9'; p++, any = true)
                if (!digits_append(m, *p))
                        *ret_too_large = true;
        if (*p != '.')
                return any ? p : NULL;
        p++;
        frac_end = p;
        while (*frac_end >= '0' && *frac_end <= '9')
                frac_end++;
        any = any || frac_end > p;
        /* Trailing zeros of a fraction add nothing; dropping them keeps "1.000000000000000000000Gi" exact.
         */
        const char *last = frac_end;
        while (last > p && last[-1] == '0')
                last--;
        for (; p < last; p++) {
                if (!digits_append(m, *p))
                        *ret_too_large = true;
                m->decimal_exp--;
        }
        return any ? frac_end : NULL;
}

/* "e3", "E-2" after the mantissa: Kubernetes' decimal exponent notation. */
static bool exponent_parse(const char *p, int *ret_exp)
{
        bool negative = false;
        int e = 0;

        if (*p == '+' || *p == '-')
                negative = *p++ == '-';
        if (!*p)
                return false;
        for (; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                if (e < 1000)
                        e = e * 10 + (*p - '0');
        }
        *ret_exp = negative ? -e : e;
        return true;
}

static const Suffix *suffix_find(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (streq(s, suffixes[i].text))
                        return &suffixes[i];
        return NULL;
}

/* value = digits * 2^shift * 10^exp, exactly, into a uint64; -ERANGE over, -EDOM for a fraction. */
static int quantity_scale(unsigned __int128 digits, unsigned shift, int exp, uint64_t *ret)
{
        if (digits == 0) {
                *ret = 0;
                return 0;
        }
        digits <<= shift; /* digits <= ~2^67 and shift <= 60: fits in 128 bits */
        for (; exp > 0; exp--) {
                if (digits > UINT64_MAX)
                        return -ERANGE;
                digits *= 10;
        }
        for (; exp < 0; exp++) {
                if (digits % 10 != 0)
                        return -EDOM;
                digits /= 10;
        }
        if (digits > UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t)digits;
        return 0;
}

static int quantity_parse(const char *text, int unit_exp, const char *unit, uint64_t *ret, BerthError *err)
{
        const char *p = text, *rest;
        bool too_large = false;
        const Suffix *suffix;
        Mantissa m;
        int exp = 0, r;

        if (!text || !*text)
                return error_setx(err, -EINVAL, "empty quantity");
        if (*p == '-')
                return error_setx(err, -EINVAL, "\"%s\": negative quantity", text);
        if (*p == '+')
                p++;
        rest = mantissa_parse(p, &m, &too_large);
        if (!rest)
                return error_setx(err, -EINVAL,
                                  "\"%s\": not a quantity (expected a number with an optional suffix such "
                                  "as m, k, M, G, Ki, Mi, Gi)",
                                  text);
        if ((*rest == 'e' || *rest == 'E') && rest[1] && exponent_parse(rest + 1, &exp))
                suffix = &suffixes[0];
        else if (!(suffix = suffix_find(rest)))
                return error_setx(err, -EINVAL, "\"%s\": unknown suffix \"%s\"", text, rest);
        if (too_large || exp > QUANTITY_DECIMAL_MAX)
                return error_setx(err, -ERANGE, "\"%s\": too large (over %" PRIu64 " %s)", text, UINT64_MAX,
                                  unit);
        if (exp < -QUANTITY_DECIMAL_MAX)
                exp = -QUANTITY_DECIMAL_MAX - 1;
        r = quantity_scale(m.digits, suffix->binary_shift,
                           m.decimal_exp + exp + suffix->decimal_exp + unit_exp, ret);
        if (r == -ERANGE)
                return error_setx(err, -ERANGE, "\"%s\": too large (over %" PRIu64 " %s)", text, UINT64_MAX,
                                  unit);
        if (r == -EDOM)
                return error_setx(err, -EINVAL, "\"%s\": not a whole number of %s", text, unit);
        return r;
}

int sched_quantity_parse_cpu(const char *text, uint64_t *ret_millis, BerthError *err)
{
        return quantity_parse(text, 3, "millicores", ret_millis, err);
}

int sched_quantity_parse_memory(const char *text, uint64_t *ret_bytes, BerthError *err)
{
        return quantity_parse(text, 0, "bytes", ret_bytes, err);
}

int sched_quantity_from_json(struct json_object *v, bool millis, uint64_t *ret, BerthError *err)
{
        const char *text;

        switch (json_object_get_type(v)) {
        case json_type_int:
                /* json-c clamps integers beyond 64 bits to the limits, so those are refused as too large. */
                if (json_object_get_int64(v) < 0)
                        return error_setx(err, -EINVAL, "%s: negative quantity", json_object_get_string(v));
                if (json_object_get_uint64(v) == UINT64_MAX)
                        return error_setx(err, -ERANGE, "%s: too large", json_object_get_string(v));
                _fallthrough_;
        case json_type_double:
                /* json-c keeps a number's original text, so 0.5 is parsed exactly, not as a double. */
                text = json_object_get_string(v);
                break;
        case json_type_string:
                text = json_object_get_string(v);
                break;
        default:
                return error_setx(err, -EINVAL, "must be a quantity (a string such as \"%s\" or a number)",
                                  millis ? "500m" : "4Gi");
        }
        return millis ? sched_quantity_parse_cpu(text, ret, err)
                      : sched_quantity_parse_memory(text, ret, err);
}
