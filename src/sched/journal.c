/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "basic/fileio.h"
#include "journal.h"
#include "sched-json.h"

#define SHA256_HEX_LEN 64
/* What a decision record ends with: ,"sha256":"<64 hex>"} */
#define SHA_MEMBER_PREFIX     ",\"sha256\":\""
#define SHA_MEMBER_PREFIX_LEN (sizeof(SHA_MEMBER_PREFIX) - 1)
#define SHA_MEMBER_LEN        (SHA_MEMBER_PREFIX_LEN + SHA256_HEX_LEN + 2)
#define HEADER_MAGIC          "{\"berth_journal\":"

/* A journal of a few gigabytes is read whole; this only stops a wrong path from eating memory. */
#define JOURNAL_LOAD_MAX ((size_t)64 << 30)

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)

struct Journal {
        int fd;
        char *path;
        const Cluster *cluster;
        const char *const *raw_lines;
        StrBuf buf;       /* records not yet written */
        size_t hashed;    /* bytes of buf already fed to sha */
        uint64_t written; /* bytes written to the file */
        EVP_MD_CTX *sha;  /* running SHA-256 over every byte so far */
        EVP_MD_CTX *copy; /* finalised per decision, so sha runs on */
        char digest[SHA256_HEX_LEN + 1];
        int error; /* sticky: the first failure */
        BerthError err;
};

static void hex_encode(const unsigned char *d, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 0xf];
        }
        out[2 * n] = '\0';
}

/* The digest of what @sha has seen so far, leaving @sha as it is. */
static int sha_peek(EVP_MD_CTX *sha, EVP_MD_CTX *copy, char out[static SHA256_HEX_LEN + 1])
{
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (EVP_MD_CTX_copy_ex(copy, sha) != 1 || EVP_DigestFinal_ex(copy, d, &n) != 1 || n != 32)
                return -ENOMEM;
        hex_encode(d, n, out);
        return 0;
}

static int sha_new(EVP_MD_CTX **ret_sha, EVP_MD_CTX **ret_copy)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *sha = EVP_MD_CTX_new();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *copy = EVP_MD_CTX_new();

        if (!sha || !copy || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        *ret_sha = TAKE_PTR(sha);
        *ret_copy = TAKE_PTR(copy);
        return 0;
}

static Journal *journal_free(Journal *j)
{
        if (!j)
                return NULL;
        safe_close(j->fd);
        free(j->path);
        strbuf_done(&j->buf);
        EVP_MD_CTX_free(j->sha);
        EVP_MD_CTX_free(j->copy);
        free(j);
        return NULL;
}

static void journal_freep(Journal **j)
{
        journal_free(*j);
}

static int journal_fail(Journal *j, int r, const char *what)
{
        if (j->error == 0) {
                j->error = r;
                error_set(&j->err, r, "%s %s", what, j->path);
        }
        return r;
}

static void journal_hash_buffered(Journal *j)
{
        if (j->buf.len > j->hashed &&
            EVP_DigestUpdate(j->sha, j->buf.ptr + j->hashed, j->buf.len - j->hashed) != 1)
                journal_fail(j, -ENOMEM, "hash");
        j->hashed = j->buf.len;
}

/* One group: write what is buffered, then fdatasync, so a crash loses at most the group in flight. */
static int journal_flush(Journal *j)
{
        int r;

        if (j->error < 0)
                return j->error;
        if (strbuf_failed(&j->buf))
                return journal_fail(j, -ENOMEM, "write");
        if (j->buf.len == 0)
                return 0;
        journal_hash_buffered(j);
        r = loop_write(j->fd, j->buf.ptr, j->buf.len);
        if (r < 0)
                return journal_fail(j, r, "write");
        if (fdatasync(j->fd) < 0)
                return journal_fail(j, negative_errno(), "fdatasync");
        j->written += j->buf.len;
        j->buf.len = 0;
        j->buf.ptr[0] = '\0';
        j->hashed = 0;
        return j->error;
}

static int journal_record_done(Journal *j)
{
        strbuf_putc(&j->buf, '\n');
        if (strbuf_failed(&j->buf))
                return journal_fail(j, -ENOMEM, "write");
        if (j->buf.len >= JOURNAL_GROUP_BYTES)
                return journal_flush(j);
        return j->error;
}

/* Make the new file's directory entry durable too: fdatasync on the file does not. */
static int fsync_parent_dir(const char *path)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *slash = strrchr(path, '/');

        dir = !slash ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fsync(fd) < 0 && errno != EINVAL)
                return negative_errno();
        return 0;
}

static int gang_cmp(const void *a, const void *b)
{
        return strcmp(((const SimGang *)a)->name, ((const SimGang *)b)->name);
}

static void header_format(const SimOptions *o, const Cluster *c, const SimGang *gangs, size_t n_gangs,
                          StrBuf *out)
{
        const char *policy = sched_policy_to_string(o->policy);

        assert(policy);
        strbuf_printf(out, HEADER_MAGIC "%d,\"policy\":\"%s\",\"starve_after\":%" PRIu64 ",\"until\":",
                      JOURNAL_VERSION, policy, o->starve_after_sec);
        if (o->until_sec == SIM_UNTIL_END)
                strbuf_puts(out, "null");
        else
                strbuf_printf(out, "%" PRIu64, o->until_sec);
        strbuf_puts(out, ",\"gangs\":{");
        for (size_t i = 0; i < n_gangs; i++) {
                if (i > 0)
                        strbuf_putc(out, ',');
                strbuf_put_json_string(out, gangs[i].name);
                strbuf_printf(out, ":%" PRIu32, gangs[i].size);
        }
        strbuf_puts(out, "},\"cluster\":");
        sched_cluster_format(c, out);
        strbuf_putc(out, '}');
}

int sched_journal_create(const char *path, const SimOptions *o, const Cluster *c, const SimGang *gangs,
                         size_t n_gangs, const char *const *raw_lines, Journal **ret, BerthError *err)
{
        _cleanup_(journal_freep) Journal *j = NULL; /* a failed create writes nothing more */
        int r;

        assert(path && o && c && ret);
        assert(n_gangs == 0 || gangs);

        j = calloc(1, sizeof(Journal));
        if (!j)
                return -ENOMEM;
        j->fd = -EBADF;
        j->cluster = c;
        j->raw_lines = raw_lines;
        j->path = strdup(path);
        if (!j->path)
                return -ENOMEM;
        r = sha_new(&j->sha, &j->copy);
        if (r < 0)
                return r;
        j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (j->fd < 0)
                return error_set(err, negative_errno(), "create %s", path);
        r = fsync_parent_dir(path);
        if (r < 0)
                return error_set(err, r, "create %s: sync its directory", path);
        header_format(o, c, gangs, n_gangs, &j->buf);
        r = journal_record_done(j);
        if (r < 0)
                return error_set(err, r, "create %s", path);
        *ret = TAKE_PTR(j);
        return 0;
}

/* strbuf_put_json_string() appends byte by byte; input lines are most of a journal's bytes, so
 * runs that need no escape go in whole. The output is the same. */
static void put_json_string_fast(StrBuf *b, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        strbuf_putc(b, '"');
        for (;;) {
                const unsigned char *run = p;
                char esc[8];

                while (*p >= 0x20 && *p != '"' && *p != '\\')
                        p++;
                strbuf_put(b, (const char *)run, (size_t)(p - run));
                if (!*p)
                        break;
                switch (*p) {
                case '"':
                case '\\':
                        esc[0] = '\\';
                        esc[1] = (char)*p;
                        strbuf_put(b, esc, 2);
                        break;
                case '\n':
                        strbuf_put(b, "\\n", 2);
                        break;
                case '\r':
                        strbuf_put(b, "\\r", 2);
                        break;
                case '\t':
                        strbuf_put(b, "\\t", 2);
                        break;
                default:
                        snprintf(esc, sizeof(esc), "\\u%04x", *p);
                        strbuf_put(b, esc, 6);
                }
                p++;
        }
        strbuf_putc(b, '"');
}

int sched_journal_append_input(Journal *j, uint64_t time, size_t index, unsigned line, const char *raw)
{
        assert(j && raw);

        if (j->error < 0)
                return j->error;
        strbuf_printf(&j->buf, "{\"time\":%" PRIu64 ",\"index\":%zu,\"line\":%u,\"input\":", time, index,
                      line);
        put_json_string_fast(&j->buf, raw);
        strbuf_putc(&j->buf, '}');
        return journal_record_done(j);
}

StrBuf *sched_journal_decision_begin(Journal *j)
{
        int r;

        assert(j);
        if (j->error < 0)
                return NULL;
        journal_hash_buffered(j);
        r = j->error < 0 ? j->error : sha_peek(j->sha, j->copy, j->digest);
        if (r < 0) {
                journal_fail(j, r, "hash");
                return NULL;
        }
        return &j->buf;
}

int sched_journal_decision_end(Journal *j)
{
        assert(j);
        if (j->error < 0)
                return j->error;
        if (strbuf_failed(&j->buf))
                return journal_fail(j, -ENOMEM, "write");
        /* The record must be an object after what was hashed: its '}' gives way to the member. */
        assert(j->buf.len > j->hashed && j->buf.ptr[j->buf.len - 1] == '}');
        j->buf.len--;
        strbuf_puts(&j->buf, SHA_MEMBER_PREFIX);
        strbuf_put(&j->buf, j->digest, SHA256_HEX_LEN);
        strbuf_puts(&j->buf, "\"}");
        return journal_record_done(j);
}

int sched_journal_append_decision(Journal *j, const char *text, size_t len)
{
        StrBuf *b;

        assert(text && len >= 2 && text[0] == '{' && text[len - 1] == '}');
        b = sched_journal_decision_begin(j);
        if (!b)
                return j->error;
        strbuf_put(b, text, len);
        return sched_journal_decision_end(j);
}

int sched_journal_close(Journal *j, BerthError *err)
{
        int r;

        if (!j)
                return 0;
        r = journal_flush(j);
        if (r >= 0 && j->fd >= 0 && close(TAKE_FD(j->fd)) < 0)
                r = journal_fail(j, negative_errno(), "close");
        if (r < 0 && err && err->code == 0)
                *err = j->err;
        journal_free(j);
        return r;
}

void sched_journal_closep(Journal **j)
{
        if (*j)
                (void)sched_journal_close(*j, NULL);
}

uint64_t sched_journal_bytes(const Journal *j)
{
        return j->written + j->buf.len;
}

const Cluster *sched_journal_cluster(const Journal *j)
{
        return j->cluster;
}

const char *sched_journal_raw_line(const Journal *j, size_t i)
{
        assert(j->raw_lines);
        return j->raw_lines[i];
}

/* ---- Loading ---- */

void sched_journal_contents_done(JournalContents *jc)
{
        if (!jc)
                return;
        sched_cluster_free(jc->cluster);
        for (size_t i = 0; i < jc->n_gangs; i++)
                free(jc->gangs[i].name);
        free(jc->gangs);
        for (size_t i = 0; i < jc->n_inputs; i++) {
                sched_input_done(&jc->inputs[i]);
                free(jc->raw_lines[i]);
        }
        free(jc->inputs);
        free(jc->raw_lines);
        free(jc->taken);
        free(jc->decisions);
        free(jc->buffer);
        *jc = (JournalContents){};
}

/* A JSON integer 0 ... @max (json-c keeps values up to UINT64_MAX as unsigned). */
static int json_get_u64(struct json_object *v, uint64_t max, uint64_t *ret)
{
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                return -EINVAL;
        if (json_object_get_uint64(v) > max)
                return -ERANGE;
        *ret = json_object_get_uint64(v);
        return 0;
}

static int header_gangs(struct json_object *v, JournalContents *jc, BerthError *err)
{
        size_t n = 0;

        if (!json_object_is_type(v, json_type_object))
                return error_setx(err, -EINVAL, "gangs: must be an object");
        jc->gangs = calloc(json_object_object_length(v) + 1, sizeof(SimGang));
        if (!jc->gangs)
                return -ENOMEM;
        json_object_object_foreach (v, name, size) {
                uint64_t s;

                if (json_get_u64(size, UINT32_MAX, &s) < 0 || s == 0)
                        return error_setx(err, -EINVAL, "gangs.%s: must be a size 1 ... %" PRIu32, name,
                                          UINT32_MAX);
                jc->gangs[n].name = strdup(name);
                if (!jc->gangs[n].name)
                        return -ENOMEM;
                jc->gangs[n++].size = (uint32_t)s;
                jc->n_gangs = n;
        }
        if (n > 0)
                qsort(jc->gangs, n, sizeof(SimGang), gang_cmp);
        return 0;
}

static const char *const header_fields[] = {"berth_journal", "policy", "starve_after", "until", "gangs",
                                            "cluster",       NULL};

static int header_load(const char *line, JournalContents *jc, BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        struct json_object *v;
        uint64_t version;
        int r;

        r = sched_json_parse_text(line, &root, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "berth_journal", &v))
                return error_setx(err, -EINVAL, "not a berth journal");
        if (json_get_u64(v, UINT64_MAX, &version) < 0 || version != JOURNAL_VERSION)
                return error_setx(err, -EPROTONOSUPPORT, "berth_journal: version %s, this berth reads %d",
                                  json_object_to_json_string(v), JOURNAL_VERSION);
        r = sched_json_check_object(root, header_fields, "", err);
        if (r < 0)
                return r;
        for (const char *const *f = header_fields; *f; f++)
                if (!json_object_object_get_ex(root, *f, NULL))
                        return error_setx(err, -EINVAL, "%s: missing", *f);

        json_object_object_get_ex(root, "policy", &v);
        jc->options.policy = sched_policy_from_string(json_object_get_string(v));
        if (!json_object_is_type(v, json_type_string) || jc->options.policy < 0)
                return error_setx(err, -EINVAL, "policy: %s: unknown policy", json_object_get_string(v));
        json_object_object_get_ex(root, "starve_after", &v);
        if (json_get_u64(v, UINT64_MAX, &jc->options.starve_after_sec) < 0)
                return error_setx(err, -EINVAL, "starve_after: must be an integer >= 0");
        json_object_object_get_ex(root, "until", &v);
        jc->options.until_sec = SIM_UNTIL_END;
        if (v && json_get_u64(v, UINT64_MAX - 1, &jc->options.until_sec) < 0)
                return error_setx(err, -EINVAL, "until: must be null or an integer >= 0");
        json_object_object_get_ex(root, "gangs", &v);
        r = header_gangs(v, jc, err);
        if (r < 0)
                return r;
        /* The canonical text goes back through the one cluster parser, with all its checks. */
        json_object_object_get_ex(root, "cluster", &v);
        r = sched_cluster_parse(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), &jc->cluster,
                                err);
        if (r < 0)
                error_prefix(err, "cluster: ");
        return r;
}

static const char *const input_fields[] = {"time", "index", "line", "input", NULL};

typedef struct Loader {
        JournalContents *jc;
        size_t cap_inputs, cap_decisions;
        uint64_t *index;  /* parallel to jc->inputs while they are in journal order */
        size_t unvouched; /* the decision no later hash covers, not parsed yet; SIZE_MAX: none */
        EVP_MD_CTX *sha, *copy;
} Loader;

static int input_load(Loader *l, const char *line, BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_free_ char *raw = NULL;
        JournalContents *jc = l->jc;
        struct json_object *v;
        uint64_t time, index, line_no;
        int r;

        r = sched_json_parse_text(line, &root, err);
        if (r < 0)
                return r;
        r = sched_json_check_object(root, input_fields, "", err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(root, "time", &v) || json_get_u64(v, UINT64_MAX, &time) < 0)
                return error_setx(err, -EINVAL, "time: must be an integer >= 0");
        if (!json_object_object_get_ex(root, "index", &v) || json_get_u64(v, SIZE_MAX - 1, &index) < 0)
                return error_setx(err, -EINVAL, "index: must be an integer >= 0");
        if (!json_object_object_get_ex(root, "line", &v) || json_get_u64(v, UINT_MAX, &line_no) < 0)
                return error_setx(err, -EINVAL, "line: must be an integer >= 0");
        if (!json_object_object_get_ex(root, "input", &v) || !json_object_is_type(v, json_type_string) ||
            strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
                return error_setx(err, -EINVAL, "input: must be a string");
        raw = strdup(json_object_get_string(v));
        if (!raw)
                return -ENOMEM;

        if (jc->n_inputs == l->cap_inputs) {
                size_t cap = l->cap_inputs ? l->cap_inputs * 2 : 64;
                void *p;

                if (cap > SIZE_MAX / sizeof(SchedInput))
                        return -ENOMEM;
                p = realloc(jc->inputs, cap * sizeof(SchedInput));
                if (!p)
                        return -ENOMEM;
                jc->inputs = p;
                p = realloc(jc->raw_lines, cap * sizeof(char *));
                if (!p)
                        return -ENOMEM;
                jc->raw_lines = p;
                p = realloc(l->index, cap * sizeof(uint64_t));
                if (!p)
                        return -ENOMEM;
                l->index = p;
                l->cap_inputs = cap;
        }
        jc->inputs[jc->n_inputs] = (SchedInput){};
        r = sched_input_parse_line(raw, (unsigned)line_no, &jc->inputs[jc->n_inputs], err);
        if (r < 0)
                return r;
        l->index[jc->n_inputs] = index;
        jc->raw_lines[jc->n_inputs++] = TAKE_PTR(raw);
        return 0;
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* The seq a decision record starts with ({"seq":N,), without a JSON parse. */
static int seq_from_prefix(const char *line, uint64_t *ret)
{
        const char *p = line + strlen("{\"seq\":");
        uint64_t seq = 0;

        if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != ','))
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++)
                if (__builtin_mul_overflow(seq, 10, &seq) ||
                    __builtin_add_overflow(seq, (uint64_t)(*p - '0'), &seq))
                        return -EINVAL;
        if (*p != ',')
                return -EINVAL;
        *ret = seq;
        return 0;
}

/*
 * @line is NUL-terminated at @len; it is left as it is (the caller hashes it, then strips the
 * hash). A decision's bytes are vouched for by the next decision's hash, so only one that no
 * later decision covers needs a JSON parse: @validate for the file's last record, the loader's
 * final check for a decision followed by inputs only. The rest costs no parse.
 */
static int decision_load(Loader *l, const char *line, size_t len, uint64_t record, uint64_t offset,
                         bool validate, BerthError *err)
{
        JournalContents *jc = l->jc;
        char digest[SHA256_HEX_LEN + 1];
        const char *member;
        uint64_t seq;
        int r;

        if (validate) {
                _cleanup_(json_object_putp) struct json_object *root = NULL;

                r = sched_json_parse_text(line, &root, err);
                if (r < 0)
                        return r;
        }
        if (len < SHA_MEMBER_LEN + 2)
                return error_setx(err, -EINVAL, "sha256: missing");
        member = line + len - SHA_MEMBER_LEN;
        if (memcmp(member, SHA_MEMBER_PREFIX, SHA_MEMBER_PREFIX_LEN) != 0 ||
            !is_hex(member + SHA_MEMBER_PREFIX_LEN, SHA256_HEX_LEN) ||
            !streq(member + SHA_MEMBER_LEN - 2, "\"}"))
                return error_setx(err, -EINVAL, "sha256: must be the last member, 64 hex digits");
        if (seq_from_prefix(line, &seq) < 0)
                return error_setx(err, -EINVAL, "seq: must be the first member, an integer >= 1");
        if (seq != jc->n_decisions + 1)
                return error_setx(err, -EINVAL, "seq: %" PRIu64 ", expected %zu", seq, jc->n_decisions + 1);
        r = sha_peek(l->sha, l->copy, digest);
        if (r < 0)
                return r;
        if (memcmp(digest, member + SHA_MEMBER_PREFIX_LEN, SHA256_HEX_LEN) != 0)
                return error_setx(err, -EINVAL, "sha256 mismatch");
        /* This hash covers every byte before it, the previous decision's included. */
        l->unvouched = validate ? SIZE_MAX : jc->n_decisions;

        if (jc->n_decisions == l->cap_decisions) {
                size_t cap = l->cap_decisions ? l->cap_decisions * 2 : 64;
                void *p;

                if (cap > SIZE_MAX / sizeof(JournalDecision))
                        return -ENOMEM;
                p = realloc(jc->decisions, cap * sizeof(JournalDecision));
                if (!p)
                        return -ENOMEM;
                jc->decisions = p;
                l->cap_decisions = cap;
        }
        jc->decisions[jc->n_decisions++] = (JournalDecision){
                .seq = seq,
                .text = line,
                .inputs_before = jc->n_inputs,
                .record = record,
                .offset = offset,
        };
        return 0;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
        size_t k = strlen(prefix);

        return n >= k && memcmp(s, prefix, k) == 0;
}

static int record_load(Loader *l, const char *line, size_t len, uint64_t record, uint64_t offset, bool last,
                       BerthError *err)
{
        if (memchr(line, '\0', len))
                return error_setx(err, -EINVAL, "a NUL byte in the record");
        if (record == 1)
                return starts_with(line, len, HEADER_MAGIC)
                               ? header_load(line, l->jc, err)
                               : error_setx(err, -EINVAL, "not a berth journal");
        if (starts_with(line, len, "{\"seq\":"))
                return decision_load(l, line, len, record, offset, last, err);
        if (starts_with(line, len, "{\"time\":"))
                return input_load(l, line, err);
        return error_setx(err, -EINVAL, "neither an input nor a decision record");
}

/* Whether a failed last record may be cut as a torn write. A header that is no prefix of a journal's
 * is not torn: the file is something else. */
static bool torn_ok(uint64_t record, const char *line, size_t len, int r)
{
        size_t k = strlen(HEADER_MAGIC);

        if (record > 1)
                return true;
        return r != -EPROTONOSUPPORT && memcmp(line, HEADER_MAGIC, len < k ? len : k) == 0;
}

static int index_cmp(const void *a, const void *b, void *userdata)
{
        const uint64_t *index = userdata;
        uint64_t x = index[*(const size_t *)a], y = index[*(const size_t *)b];

        return x < y ? -1 : x > y;
}

/* The inputs as the simulation had them, by index (ties in it are broken by index); taken[] keeps
 * the journal's order for replay. */
static int inputs_order(Loader *l, BerthError *err)
{
        JournalContents *jc = l->jc;
        size_t n = jc->n_inputs;
        _cleanup_free_ size_t *perm = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ SchedInput *inputs = calloc(n + 1, sizeof(SchedInput));
        _cleanup_free_ char **raw = calloc(n + 1, sizeof(char *));

        if (!perm || !inputs || !raw)
                return -ENOMEM;
        jc->taken = calloc(n + 1, sizeof(size_t));
        if (!jc->taken)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                perm[k] = k;
        qsort_r(perm, n, sizeof(size_t), index_cmp, l->index);
        for (size_t k = 1; k < n; k++)
                if (l->index[perm[k]] == l->index[perm[k - 1]])
                        return error_setx(err, -EINVAL, "input index %" PRIu64 " recorded twice",
                                          l->index[perm[k]]);
        for (size_t k = 0; k < n; k++) {
                inputs[k] = jc->inputs[perm[k]];
                raw[k] = jc->raw_lines[perm[k]];
                jc->taken[perm[k]] = k;
        }
        free(jc->inputs);
        free(jc->raw_lines);
        jc->inputs = TAKE_PTR(inputs);
        jc->raw_lines = TAKE_PTR(raw);
        return 0;
}

static void loader_done(Loader *l)
{
        free(l->index);
        EVP_MD_CTX_free(l->sha);
        EVP_MD_CTX_free(l->copy);
}

int sched_journal_load(const char *path, JournalContents *ret, BerthError *err)
{
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        _cleanup_(loader_done) Loader l = {.jc = &jc, .unvouched = SIZE_MAX};
        size_t len, pos = 0;
        uint64_t record = 0;
        int r;

        assert(path && ret);
        r = read_full_file_at(AT_FDCWD, path, JOURNAL_LOAD_MAX, &jc.buffer, &len);
        if (r < 0)
                return error_set(err, r, "read");
        r = sha_new(&l.sha, &l.copy);
        if (r < 0)
                return r;

        while (pos < len) {
                char *line = jc.buffer + pos, *nl = memchr(line, '\n', len - pos);
                size_t n = nl ? (size_t)(nl - line) : len - pos;
                bool last = pos + n + 1 >= len;
                BerthError rerr = {};

                record++;
                if (nl) {
                        *nl = '\0';
                        r = record_load(&l, line, n, record, pos, last, &rerr);
                } else
                        r = error_setx(&rerr, -EINVAL, "no newline at the end");
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (last && torn_ok(record, line, n, r))
                                break;
                        return error_setx(err, r == -EPROTONOSUPPORT ? r : -EINVAL,
                                          "record %" PRIu64 " at byte %zu: %s", record, pos,
                                          error_message(&rerr, r));
                }
                if (EVP_DigestUpdate(l.sha, line, n) != 1 || EVP_DigestUpdate(l.sha, "\n", 1) != 1)
                        return -ENOMEM;
                if (record == 1)
                        jc.has_header = true;
                else if (starts_with(line, n, "{\"seq\":"))
                        /* The text as sched_sim_record_format() gave it: the member out, the '}' back. */
                        memcpy(line + n - SHA_MEMBER_LEN, "}", 2);
                jc.records = record;
                pos += n + 1;
        }
        if (l.unvouched != SIZE_MAX) {
                const JournalDecision *d = &jc.decisions[l.unvouched];
                _cleanup_(json_object_putp) struct json_object *root = NULL;
                BerthError rerr = {};

                r = sched_json_parse_text(d->text, &root, &rerr);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_setx(err, -EINVAL, "record %" PRIu64 " at byte %" PRIu64 ": %s",
                                          d->record, d->offset, error_message(&rerr, r));
        }
        r = inputs_order(&l, err);
        if (r < 0)
                return r;
        jc.bytes_kept = pos;
        jc.bytes_cut = len - pos;
        *ret = jc;
        jc = (JournalContents){};
        return 0;
}
