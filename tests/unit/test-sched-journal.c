/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "sched/cluster.h"
#include "sched/jobs.h"
#include "sched/journal.h"
#include "sched/sim.h"

static char tmpdir[] = "/tmp/test-sched-journal.XXXXXX";

static int setup(void **state)
{
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        return rm_rf_at(AT_FDCWD, tmpdir);
}

static const char *tmp_path(char *buf, size_t size, const char *name)
{
        snprintf(buf, size, "%s/%s", tmpdir, name);
        return buf;
}

static char *file_read(const char *path, size_t *ret_len)
{
        char *text = NULL;

        if (read_full_file_at(AT_FDCWD, path, (size_t)1 << 30, &text, ret_len) < 0)
                fail_msg("cannot read %s", path);
        return text;
}

/* A new file each time: ext4 flushes a file truncated and written again when it is closed, which
 * would make the loops over every cut wait on the disk. */
static void file_write(const char *path, const char *data, size_t len)
{
        _cleanup_close_ int fd = -EBADF;

        (void)unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(loop_write(fd, data, len), 0);
}

static char *example_read(const char *name)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/../../../examples/%s", TEST_DATA_DIR, name);
        return file_read(path, NULL);
}

static Cluster *cluster_parse_ok(const char *text)
{
        BerthError err = {};
        Cluster *c = NULL;

        if (sched_cluster_parse(text, &c, &err) < 0)
                fail_msg("%s", err.msg);
        return c;
}

static char *cluster_format(const Cluster *c)
{
        StrBuf b = STRBUF_INIT;
        char *s;

        sched_cluster_format(c, &b);
        s = strbuf_steal(&b);
        assert_non_null(s);
        return s;
}

static void cluster_assert_equal(const Cluster *a, const Cluster *b)
{
        assert_int_equal(a->n_nodes, b->n_nodes);
        for (size_t i = 0; i < a->n_nodes; i++) {
                const Node *x = &a->nodes[i], *y = &b->nodes[i];

                assert_string_equal(x->name, y->name);
                assert_true(x->cpu_millis == y->cpu_millis);
                assert_true(x->memory_bytes == y->memory_bytes);
                assert_int_equal(x->n_gpus, y->n_gpus);
                for (size_t g = 0; g < x->n_gpus; g++) {
                        assert_string_equal(x->gpus[g].uuid, y->gpus[g].uuid);
                        assert_string_equal(x->gpus[g].model, y->gpus[g].model);
                        assert_true(x->gpus[g].memory_bytes == y->gpus[g].memory_bytes);
                        assert_int_equal(x->gpus[g].nvlink, y->gpus[g].nvlink);
                }
                assert_int_equal(x->n_labels, y->n_labels);
                for (size_t l = 0; l < x->n_labels; l++) {
                        assert_string_equal(x->labels[l].key, y->labels[l].key);
                        assert_string_equal(x->labels[l].value, y->labels[l].value);
                }
        }
}

/* Canonical text parses back to an identical model, which formats to the same text. */
static void cluster_round_trip(const char *text)
{
        _cleanup_(sched_cluster_freep) Cluster *a = cluster_parse_ok(text), *b = NULL;
        _cleanup_free_ char *fa = cluster_format(a), *fb = NULL;

        b = cluster_parse_ok(fa);
        cluster_assert_equal(a, b);
        fb = cluster_format(b);
        assert_string_equal(fa, fb);
}

static void test_cluster_format(void **state)
{
        _cleanup_free_ char *example = example_read("cluster.json");
        _cleanup_(sched_cluster_freep) Cluster *c = NULL;
        _cleanup_free_ char *text = NULL;

        cluster_round_trip(example);
        /* The extremes: the largest quantities, escapes and UTF-8 in names, no GPUs, an empty label. */
        cluster_round_trip(
                "{\"nodes\":[{\"name\":\"z\\\"q\\\\\\u00e9\\t\",\"cpu\":\"18446744073709551615m\","
                "\"memory\":\"18446744073709551615\",\"labels\":{\"b\":\"\",\"a\":\"\\n\"},"
                "\"gpus\":[{\"uuid\":\"G-2\",\"model\":\"H\\/100\",\"memory\":\"15Ei\",\"nvlink\":"
                "2147483646},{\"uuid\":\"G-1\",\"model\":\"m\",\"memory\":0,\"nvlink\":0}]},"
                "{\"name\":\"a\",\"cpu\":0,\"memory\":0,\"gpus\":[]}]}");
        c = cluster_parse_ok("{\"nodes\":[{\"name\":\"n\",\"cpu\":\"0.5\",\"memory\":\"1Ki\","
                             "\"labels\":{\"k\":\"v\"}}]}");
        text = cluster_format(c);
        assert_string_equal(text, "{\"nodes\":[{\"name\":\"n\",\"cpu\":\"500m\",\"memory\":\"1024\","
                                  "\"labels\":{\"k\":\"v\"}}]}");
}

/* ---- a small synthetic journal: inputs and decision texts written by hand */

#define N_INPUTS 20

static const char *const cluster_text = "{\"nodes\":[{\"name\":\"n1\",\"cpu\":8,\"memory\":\"32Gi\"},{"
                                        "\"name\":\"n2\",\"cpu\":8,\"memory\":\"32Gi\"}]}";

typedef struct Synthetic {
        Cluster *cluster;
        char *raw[N_INPUTS];
        SimGang gangs[1];
        SimOptions o;
} Synthetic;

static void synthetic_init(Synthetic *s)
{
        *s = (Synthetic){
                .cluster = cluster_parse_ok(cluster_text),
                .gangs = {{.name = (char *)"g\"x", .size = 2}},
                .o = {.policy = SCHED_POLICY_SPREAD, .starve_after_sec = 77, .until_sec = SIM_UNTIL_END},
        };
        for (size_t i = 0; i < N_INPUTS; i++) {
                char buf[512];

                if (i == 7)
                        snprintf(buf, sizeof(buf),
                                 "{\"event\": \"node_down\", \"node\": \"n1\", \"at\": %zu}", i);
                else if (i == 3)
                        /* a quote, a backslash, UTF-8 and a tab in the input text */
                        snprintf(buf, sizeof(buf),
                                 "{\"id\":\"q\\\"\\\\\xc3\xa9\", "
                                 "\"submit\":%zu,\t\"duration\":5,\"priority\":1,"
                                 "\"cpu\":\"500m\",\"memory\":\"1Gi\",\"gpus\":0,\"gang\":\"g\\\"x\"}",
                                 i);
                else
                        snprintf(buf, sizeof(buf),
                                 "{\"id\":\"j%zu\",\"submit\":%zu,\"duration\":10,\"priority\":0,\"cpu\":"
                                 "\"1\","
                                 "\"memory\":\"1Gi\",\"gpus\":0}",
                                 i, i);
                s->raw[i] = strdup(buf);
                assert_non_null(s->raw[i]);
        }
}

static void synthetic_done(Synthetic *s)
{
        sched_cluster_free(s->cluster);
        for (size_t i = 0; i < N_INPUTS; i++)
                free(s->raw[i]);
}

static char *decision_text(uint64_t seq, size_t i)
{
        char buf[256];

        if (i % 5 == 4)
                snprintf(buf, sizeof(buf),
                         "{\"seq\":%" PRIu64 ",\"time\":%zu,\"job\":\"j%zu\",\"pending\":\"fits no node\"}",
                         seq, i, i);
        else
                snprintf(buf, sizeof(buf),
                         "{\"seq\":%" PRIu64 ",\"time\":%zu,\"job\":\"j%zu\",\"node\":\"n%zu\",\"gpus\":[]}",
                         seq, i, i, 1 + i % 2);
        return strdup(buf);
}

/* Decisions after the k-th input record: none after the node event, two after every other. */
static size_t decisions_after(size_t k)
{
        if ((k ^ 1) == 7)
                return 0;
        return k % 2 == 0 || k == N_INPUTS - 1 ? 2 : 1;
}

/* Header, 20 inputs and 29 decisions: 50 records. The inputs are taken in out of index order (pairs
 * swapped), as ties by time may do. */
static void synthetic_write(const Synthetic *s, const char *path, size_t *ret_decisions)
{
        _cleanup_(sched_journal_closep) Journal *j = NULL;
        BerthError err = {};
        uint64_t seq = 0;

        if (sched_journal_create(path, &s->o, s->cluster, s->gangs, 1, (const char *const *)s->raw, &j,
                                 &err) < 0)
                fail_msg("%s", err.msg);
        for (size_t k = 0; k < N_INPUTS; k++) {
                size_t i = k ^ 1;
                SchedInput in = {};

                assert_int_equal(sched_input_parse_line(s->raw[i], (unsigned)i + 1, &in, &err), 0);
                assert_int_equal(sched_journal_append_input(j, k, i, (unsigned)i + 1, s->raw[i]), 0);
                sched_input_done(&in);
                for (size_t d = 0; d < decisions_after(k); d++) {
                        _cleanup_free_ char *t = decision_text(++seq, i);

                        assert_int_equal(sched_journal_append_decision(j, t, strlen(t)), 0);
                }
        }
        assert_int_equal(sched_journal_close(TAKE_PTR(j), &err), 0);
        *ret_decisions = seq;
}

static JournalContents load_ok(const char *path)
{
        JournalContents jc = {};
        BerthError err = {};

        if (sched_journal_load(path, &jc, &err) < 0)
                fail_msg("%s: %s", path, err.msg);
        return jc;
}

static void test_round_trip(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        char path[4096];
        size_t n_decisions, len;
        _cleanup_free_ char *text = NULL;
        size_t seen = 0;

        synthetic_init(&s);
        synthetic_write(&s, tmp_path(path, sizeof(path), "round-trip.jsonl"), &n_decisions);
        text = file_read(path, &len);
        assert_true(strncmp(text,
                            "{\"berth_journal\":1,\"policy\":\"spread\",\"starve_after\":77,\"until\":null,"
                            "\"gangs\":{\"g\\\"x\":2},\"cluster\":{\"nodes\":[",
                            100) == 0);

        jc = load_ok(path);
        assert_true(jc.has_header);
        assert_int_equal(jc.options.policy, SCHED_POLICY_SPREAD);
        assert_true(jc.options.starve_after_sec == 77);
        assert_true(jc.options.until_sec == SIM_UNTIL_END);
        assert_int_equal(jc.n_gangs, 1);
        assert_string_equal(jc.gangs[0].name, "g\"x");
        assert_int_equal(jc.gangs[0].size, 2);
        cluster_assert_equal(jc.cluster, s.cluster);
        assert_true(jc.bytes_kept == len);
        assert_true(jc.bytes_cut == 0);
        assert_true(jc.records == 1 + N_INPUTS + n_decisions);
        assert_true(jc.records == 50);

        /* inputs come back by index, whatever order they were taken in */
        assert_int_equal(jc.n_inputs, N_INPUTS);
        for (size_t i = 0; i < N_INPUTS; i++) {
                assert_string_equal(jc.raw_lines[i], s.raw[i]);
                if (i == 7) {
                        assert_int_equal(jc.inputs[i].kind, SCHED_INPUT_NODE_EVENT);
                        assert_int_equal(jc.inputs[i].node_event.line, 8);
                } else {
                        assert_int_equal(jc.inputs[i].kind, SCHED_INPUT_JOB);
                        assert_int_equal(jc.inputs[i].job.line, i + 1);
                }
                assert_int_equal(jc.taken[i], i ^ 1);
        }
        assert_string_equal(jc.inputs[3].job.id, "q\"\\\xc3\xa9");

        assert_int_equal(jc.n_decisions, n_decisions);
        for (size_t k = 0, d = 0; k < N_INPUTS; k++) {
                size_t i = k ^ 1;

                for (size_t m = 0; m < decisions_after(k); m++, d++) {
                        _cleanup_free_ char *t = decision_text(d + 1, i);

                        assert_string_equal(jc.decisions[d].text, t);
                        assert_true(jc.decisions[d].seq == d + 1);
                        assert_int_equal(jc.decisions[d].inputs_before, k + 1);
                        seen++;
                }
        }
        assert_int_equal(seen, n_decisions);
}

/* Each decision's sha256 is SHA-256 of the file's bytes before it, computed here independently. */
static void test_hash_chain(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        _cleanup_free_ char *text = NULL;
        char path[4096];
        size_t n_decisions, len, checked = 0;

        synthetic_init(&s);
        synthetic_write(&s, tmp_path(path, sizeof(path), "chain.jsonl"), &n_decisions);
        text = file_read(path, &len);
        for (char *p = text; p < text + len;) {
                char *nl = strchr(p, '\n');

                assert_non_null(nl);
                if (strncmp(p, "{\"seq\":", 7) == 0) {
                        unsigned char d[EVP_MAX_MD_SIZE];
                        unsigned n = 0;
                        char hex[65], *member;

                        assert_int_equal(EVP_Digest(text, (size_t)(p - text), d, &n, EVP_sha256(), NULL), 1);
                        for (unsigned i = 0; i < n; i++)
                                snprintf(hex + 2 * i, 3, "%02x", d[i]);
                        member = nl - 77;
                        assert_true(strncmp(member, ",\"sha256\":\"", 11) == 0);
                        assert_true(strncmp(member + 11, hex, 64) == 0);
                        assert_true(strncmp(member + 75, "\"}", 2) == 0);
                        checked++;
                }
                p = nl + 1;
        }
        assert_int_equal(checked, n_decisions);
}

static void load_fails(const char *path, const char *message)
{
        JournalContents jc = {};
        BerthError err = {};

        assert_true(sched_journal_load(path, &jc, &err) < 0);
        if (!strstr(err.msg, message))
                fail_msg("\"%s\" lacks \"%s\"", err.msg, message);
        assert_null(jc.buffer);
}

/* Offset of the start of record @n (1-based) in @text. */
static size_t record_offset(const char *text, size_t n)
{
        const char *p = text;

        for (size_t i = 1; i < n; i++)
                p = strchr(p, '\n') + 1;
        return (size_t)(p - text);
}

static void test_corruption(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        _cleanup_free_ char *text = NULL;
        char path[4096], bad[4096], msg[256];
        size_t n_decisions, len, off, next;
        char *p;

        synthetic_init(&s);
        synthetic_write(&s, tmp_path(path, sizeof(path), "corrupt.jsonl"), &n_decisions);
        tmp_path(bad, sizeof(bad), "bad.jsonl");
        text = file_read(path, &len);

        /* Record 1 is the header; 2 is the input j1 (taken first), 3 and 4 its decisions. A digit of
         * j1's duration changed still parses: the next decision's hash finds it. */
        off = record_offset(text, 2);
        p = strstr(text + off, "\\\"duration\\\":10");
        assert_non_null(p);
        p[strlen("\\\"duration\\\":1")] = '1';
        file_write(bad, text, len);
        snprintf(msg, sizeof(msg), "record 3 at byte %zu: sha256 mismatch", record_offset(text, 3));
        load_fails(bad, msg);
        p[strlen("\\\"duration\\\":1")] = '0';

        /* The same in a decision's node: found by the decision after it (records 19 and 21). */
        off = record_offset(text, 19);
        assert_true(strncmp(text + off, "{\"seq\":", 7) == 0);
        p = strstr(text + off, "\"node\":\"n");
        assert_non_null(p);
        p[9] = p[9] == '1' ? '2' : '1';
        file_write(bad, text, len);
        next = 21;
        assert_true(strncmp(text + record_offset(text, next), "{\"seq\":", 7) == 0);
        snprintf(msg, sizeof(msg), "record %zu at byte %zu: sha256 mismatch", next,
                 record_offset(text, next));
        load_fails(bad, msg);
        p[9] = p[9] == '1' ? '2' : '1';

        /* A byte that breaks the JSON is named where it is. */
        off = record_offset(text, 30);
        text[off + 1] = '!';
        file_write(bad, text, len);
        snprintf(msg, sizeof(msg), "record 30 at byte %zu: ", off);
        load_fails(bad, msg);
        text[off + 1] = '"';

        /* A lost newline joins two records: the first one fails to parse. */
        off = record_offset(text, 11);
        text[off - 1] = ' ';
        file_write(bad, text, len);
        snprintf(msg, sizeof(msg), "record 10 at byte %zu: ", record_offset(text, 10));
        load_fails(bad, msg);
        text[off - 1] = '\n';

        /* A missing record breaks the numbering or the chain. */
        off = record_offset(text, 25);
        next = record_offset(text, 26);
        memmove(text + off, text + next, len - next);
        file_write(bad, text, len - (next - off));
        load_fails(bad, " at byte ");

        /* Not a journal, another version, damage in the header. */
        file_write(bad, "hello\nworld\n", 12);
        load_fails(bad, "record 1 at byte 0: ");
        file_write(bad, "hello", 5);
        load_fails(bad, "record 1 at byte 0: ");
        file_write(bad, "{\"berth_journal\":2}\n", 20);
        load_fails(bad, "record 1 at byte 0: berth_journal: version 2");
}

/* Only a decision no later hash covers is parsed as JSON: one followed by inputs alone, at the end. */
static void test_unvouched_decision(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        Journal *j = NULL;
        BerthError err = {};
        char path[4096], msg[128];
        static const char broken[] = "{\"seq\":1,\"time\":0,\"job\":j0}";
        static const char good[] = "{\"seq\":2,\"time\":0,\"job\":\"j1\",\"pending\":\"fits no node\"}";
        _cleanup_free_ char *text = NULL;
        size_t len;

        synthetic_init(&s);
        tmp_path(path, sizeof(path), "unvouched.jsonl");
        assert_int_equal(sched_journal_create(path, &s.o, s.cluster, s.gangs, 1, (const char *const *)s.raw,
                                              &j, &err),
                         0);
        assert_int_equal(sched_journal_append_input(j, 0, 0, 1, s.raw[0]), 0);
        assert_int_equal(sched_journal_append_decision(j, broken, strlen(broken)), 0);
        assert_int_equal(sched_journal_append_input(j, 1, 1, 2, s.raw[1]), 0);
        assert_int_equal(sched_journal_close(j, &err), 0);
        text = file_read(path, &len);
        snprintf(msg, sizeof(msg), "record 3 at byte %zu: not valid JSON", record_offset(text, 3));
        load_fails(path, msg);

        /* once a later decision's hash vouches for its bytes, they are what was written: no parse */
        assert_int_equal(sched_journal_create(path, &s.o, s.cluster, s.gangs, 1, (const char *const *)s.raw,
                                              &j, &err),
                         0);
        assert_int_equal(sched_journal_append_input(j, 0, 0, 1, s.raw[0]), 0);
        assert_int_equal(sched_journal_append_decision(j, broken, strlen(broken)), 0);
        assert_int_equal(sched_journal_append_decision(j, good, strlen(good)), 0);
        assert_int_equal(sched_journal_close(j, &err), 0);
        {
                _cleanup_(sched_journal_contents_done) JournalContents jc = load_ok(path);

                assert_int_equal(jc.n_decisions, 2);
                assert_string_equal(jc.decisions[0].text, broken);
        }
}

/* A damaged last record is cut like a torn one: it is the record a crash may have left half
 * written, and nothing after it vouches for it. */
static void test_damaged_tail(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        _cleanup_free_ char *text = NULL;
        char path[4096], bad[4096];
        size_t n_decisions, len, last;

        synthetic_init(&s);
        synthetic_write(&s, tmp_path(path, sizeof(path), "tail.jsonl"), &n_decisions);
        tmp_path(bad, sizeof(bad), "tail-bad.jsonl");
        text = file_read(path, &len);
        last = record_offset(text, 50);
        assert_true(strncmp(text + last, "{\"seq\":", 7) == 0);

        /* its hash is wrong */
        text[len - 4] = text[len - 4] == '0' ? '1' : '0';
        file_write(bad, text, len);
        {
                _cleanup_(sched_journal_contents_done) JournalContents jc = load_ok(bad);

                assert_true(jc.bytes_kept == last);
                assert_true(jc.bytes_cut == len - last);
                assert_int_equal(jc.n_decisions, n_decisions - 1);
                assert_true(jc.records == 49);
        }
        /* zeros where it was (a file extended by a crash, its data never written) */
        memset(text + last, 0, len - last);
        file_write(bad, text, len);
        {
                _cleanup_(sched_journal_contents_done) JournalContents jc = load_ok(bad);

                assert_true(jc.bytes_kept == last);
                assert_true(jc.bytes_cut == len - last);
        }
        text[len - 1] = '\n';
        file_write(bad, text, len);
        {
                _cleanup_(sched_journal_contents_done) JournalContents jc = load_ok(bad);

                assert_true(jc.bytes_kept == last);
        }
}

/* Cut the journal at every byte: what loads is exactly the whole records before the cut. */
static void test_truncate_everywhere(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        _cleanup_(sched_journal_contents_done) JournalContents full = {};
        _cleanup_free_ char *text = NULL;
        char path[4096], cut[4096];
        size_t n_decisions, len;

        synthetic_init(&s);
        synthetic_write(&s, tmp_path(path, sizeof(path), "whole.jsonl"), &n_decisions);
        tmp_path(cut, sizeof(cut), "cut.jsonl");
        text = file_read(path, &len);
        full = load_ok(path);

        for (size_t at = 0; at <= len; at++) {
                _cleanup_(sched_journal_contents_done) JournalContents jc = {};
                size_t whole = 0, kept = 0, inputs = 0, decisions = 0;

                for (size_t i = 0; i < at; i++)
                        if (text[i] == '\n') {
                                if (whole > 0) {
                                        inputs += text[kept + 2] == 't';
                                        decisions += text[kept + 2] == 's';
                                }
                                whole++;
                                kept = i + 1;
                        }
                file_write(cut, text, at);
                jc = load_ok(cut);
                if (jc.bytes_kept != kept || jc.bytes_cut != at - kept || jc.records != whole)
                        fail_msg("cut at %zu: kept %" PRIu64 " cut %" PRIu64 " records %" PRIu64
                                 ", expected %zu %zu %zu",
                                 at, jc.bytes_kept, jc.bytes_cut, jc.records, kept, at - kept, whole);
                assert_int_equal(jc.has_header, whole > 0);
                assert_int_equal(jc.n_inputs, inputs);
                assert_int_equal(jc.n_decisions, decisions);
                for (size_t d = 0; d < decisions; d++) {
                        assert_string_equal(jc.decisions[d].text, full.decisions[d].text);
                        assert_int_equal(jc.decisions[d].inputs_before, full.decisions[d].inputs_before);
                }
                for (size_t k = 0; k < inputs; k++)
                        /* the same input records, by index: each one's text is the full journal's */
                        assert_string_equal(jc.raw_lines[jc.taken[k]], full.raw_lines[full.taken[k]]);
        }
}

/* A failing write is reported once, at close, with the path; nothing leaks. */
static void test_write_error(void **state)
{
        _cleanup_(synthetic_done) Synthetic s;
        Journal *j = NULL;
        BerthError err = {};
        int r = 0;

        synthetic_init(&s);
        if (sched_journal_create("/dev/full", &s.o, s.cluster, NULL, 0, (const char *const *)s.raw, &j,
                                 &err) < 0)
                skip();
        /* enough records to fill a group, so the failure shows before close */
        for (size_t i = 0; i < 20000 && r == 0; i++)
                r = sched_journal_append_input(j, i, i % N_INPUTS, 1, s.raw[i % N_INPUTS]);
        assert_int_equal(r, -ENOSPC);
        assert_int_equal(sched_journal_append_decision(j, "{\"seq\":1}", 9), -ENOSPC);
        assert_int_equal(sched_journal_close(j, &err), -ENOSPC);
        assert_non_null(strstr(err.msg, "write /dev/full: No space left on device"));

        err = (BerthError){};
        assert_true(sched_journal_create("/nonexistent/dir/j.jsonl", &s.o, s.cluster, NULL, 0,
                                         (const char *const *)s.raw, &j, &err) < 0);
        assert_non_null(strstr(err.msg, "create /nonexistent/dir/j.jsonl"));
}

/* ---- replay: journals the simulation writes */

typedef struct Stream {
        char *text;
        char **lines;
        SchedInput *in;
        size_t n;
        SimGang *gangs;
        size_t n_gangs;
        Cluster *cluster;
} Stream;

static void stream_done(Stream *s)
{
        for (size_t i = 0; i < s->n; i++)
                sched_input_done(&s->in[i]);
        free(s->in);
        free(s->lines);
        free(s->text);
        sched_sim_gangs_free(s->gangs, s->n_gangs);
        sched_cluster_free(s->cluster);
}

/* The examples, read as `berth sched simulate` reads them. */
static void stream_load(Stream *s)
{
        _cleanup_free_ char *cluster = example_read("cluster.json");
        BerthError err = {};
        unsigned line_no = 0;
        char *save = NULL;

        *s = (Stream){.text = example_read("jobs.jsonl"), .cluster = cluster_parse_ok(cluster)};
        s->lines = calloc(strlen(s->text) + 1, sizeof(char *));
        s->in = calloc(strlen(s->text) + 1, sizeof(SchedInput));
        assert_true(s->lines && s->in);
        for (char *line = strtok_r(s->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (sched_input_parse_line(line, ++line_no, &s->in[s->n], &err) < 0)
                        fail_msg("%s", err.msg);
                s->lines[s->n++] = line;
        }
        assert_int_equal(sched_sim_gangs_from_inputs(s->in, s->n, &s->gangs, &s->n_gangs, &err), 0);
}

static uint64_t stream_simulate(const Stream *s, const SimOptions *o, const char *path)
{
        _cleanup_(sched_journal_closep) Journal *j = NULL;
        SimSummary sum = {};
        BerthError err = {};

        if (sched_journal_create(path, o, s->cluster, s->gangs, s->n_gangs, (const char *const *)s->lines,
                                 &j, &err) < 0)
                fail_msg("%s", err.msg);
        if (sched_sim_run(s->cluster, s->in, s->n, s->gangs, s->n_gangs, o, sched_journal_sink, j, &sum,
                          &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(sched_journal_close(TAKE_PTR(j), &err), 0);
        return sum.decisions;
}

static JournalReplayResult replay_ok(const JournalContents *jc)
{
        JournalReplayResult res = {};
        BerthError err = {};

        if (sched_journal_replay(jc, &res, &err) < 0)
                fail_msg("replay: %s", err.msg);
        return res;
}

static void test_replay_examples(void **state)
{
        static const SimOptions options[] = {
                {.policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = SIM_UNTIL_END},
                {.policy = SCHED_POLICY_SPREAD, .starve_after_sec = 1, .until_sec = SIM_UNTIL_END},
                {.policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = 130},
        };
        _cleanup_(stream_done) Stream s;
        char path[4096];

        stream_load(&s);
        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                _cleanup_(sched_journal_contents_done) JournalContents jc = {};
                _cleanup_(sched_journal_replay_result_done) JournalReplayResult res = {};
                uint64_t decisions =
                        stream_simulate(&s, &options[i], tmp_path(path, sizeof(path), "ex.jsonl"));

                assert_true(decisions > 0);
                jc = load_ok(path);
                assert_int_equal(jc.n_decisions, decisions);
                assert_int_equal(jc.n_inputs, options[i].until_sec == SIM_UNTIL_END ? s.n : 11);
                assert_int_equal(jc.options.policy, options[i].policy);
                assert_true(jc.options.until_sec == options[i].until_sec);
                res = replay_ok(&jc);
                if (!res.identical)
                        fail_msg("options %zu: differs at %" PRIu64 ": %s: %s / %s", i, res.seq, res.why,
                                 res.expected, res.got);
                assert_true(res.decisions == decisions);
        }
}

/* A journal cut at any byte replays identically up to its last whole record. */
static void test_replay_truncated(void **state)
{
        static const SimOptions o = {
                .policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = SIM_UNTIL_END};
        _cleanup_(stream_done) Stream s;
        _cleanup_free_ char *text = NULL;
        char path[4096], cut[4096];
        size_t len;

        stream_load(&s);
        stream_simulate(&s, &o, tmp_path(path, sizeof(path), "ex-whole.jsonl"));
        tmp_path(cut, sizeof(cut), "ex-cut.jsonl");
        text = file_read(path, &len);
        for (size_t at = 0; at <= len; at++) {
                _cleanup_(sched_journal_contents_done) JournalContents jc = {};
                _cleanup_(sched_journal_replay_result_done) JournalReplayResult res = {};
                BerthError err = {};

                file_write(cut, text, at);
                jc = load_ok(cut);
                if (sched_journal_replay(&jc, &res, &err) < 0)
                        fail_msg("cut at %zu: replay: %s", at, err.msg);
                if (!res.identical)
                        fail_msg("cut at %zu: differs at %" PRIu64 ": %s: %s / %s", at, res.seq, res.why,
                                 res.expected, res.got);
                assert_true(res.decisions == jc.n_decisions);
        }
}

/* Write @jc again as a fresh journal (a valid hash chain), decision @seq's text replaced by @text
 * (when not NULL) and moved after @delay more inputs. */
static void journal_rewrite(const JournalContents *jc, const char *path, uint64_t seq, const char *text,
                            size_t delay, const char *extra)
{
        _cleanup_(sched_journal_closep) Journal *j = NULL;
        BerthError err = {};
        size_t d = 0;

        if (sched_journal_create(path, &jc->options, jc->cluster, jc->gangs, jc->n_gangs,
                                 (const char *const *)jc->raw_lines, &j, &err) < 0)
                fail_msg("%s", err.msg);
        for (size_t k = 0; k <= jc->n_inputs; k++) {
                for (; d < jc->n_decisions; d++) {
                        const JournalDecision *x = &jc->decisions[d];
                        const char *t = x->seq == seq && text ? text : x->text;

                        if (x->inputs_before + (x->seq == seq ? delay : 0) > k)
                                break;
                        assert_int_equal(sched_journal_append_decision(j, t, strlen(t)), 0);
                }
                if (k < jc->n_inputs) {
                        const SchedInput *in = &jc->inputs[jc->taken[k]];
                        uint64_t time =
                                in->kind == SCHED_INPUT_JOB ? in->job.submit_sec : in->node_event.at_sec;
                        unsigned line = in->kind == SCHED_INPUT_JOB ? in->job.line : in->node_event.line;

                        assert_int_equal(sched_journal_append_input(j, time, jc->taken[k], line,
                                                                    jc->raw_lines[jc->taken[k]]),
                                         0);
                }
        }
        if (extra)
                assert_int_equal(sched_journal_append_decision(j, extra, strlen(extra)), 0);
        assert_int_equal(sched_journal_close(TAKE_PTR(j), &err), 0);
}

static JournalReplayResult replay_rewritten(const JournalContents *jc, uint64_t seq, const char *text,
                                            size_t delay, const char *extra)
{
        _cleanup_(sched_journal_contents_done) JournalContents edited = {};
        char path[4096];

        journal_rewrite(jc, tmp_path(path, sizeof(path), "edited.jsonl"), seq, text, delay, extra);
        edited = load_ok(path);
        return replay_ok(&edited);
}

static void test_replay_differs(void **state)
{
        static const SimOptions o = {
                .policy = SCHED_POLICY_BINPACK, .starve_after_sec = 600, .until_sec = SIM_UNTIL_END};
        _cleanup_(stream_done) Stream s;
        _cleanup_(sched_journal_contents_done) JournalContents jc = {};
        JournalReplayResult res;
        char path[4096], *p;
        _cleanup_free_ char *edited = NULL;
        const JournalDecision *x;

        stream_load(&s);
        stream_simulate(&s, &o, tmp_path(path, sizeof(path), "ex-orig.jsonl"));
        jc = load_ok(path);
        assert_true(jc.n_decisions >= 6);

        /* unchanged, the rewrite replays identically */
        res = replay_rewritten(&jc, 0, NULL, 0, NULL);
        assert_true(res.identical);
        assert_true(res.decisions == jc.n_decisions);
        sched_journal_replay_result_done(&res);

        /* decision 5 on another node */
        x = &jc.decisions[4];
        p = strstr(x->text, "\"node\":\"");
        assert_non_null(p);
        edited = strdup(x->text);
        p = edited + (p - x->text) + strlen("\"node\":\"");
        *p = *p == 'x' ? 'y' : 'x';
        res = replay_rewritten(&jc, 5, edited, 0, NULL);
        assert_false(res.identical);
        assert_true(res.seq == 5);
        assert_string_equal(res.why, "node differs");
        assert_string_equal(res.expected, edited);
        assert_string_equal(res.got, x->text);
        assert_true(res.decisions == 4);
        sched_journal_replay_result_done(&res);

        /* decision 5 recorded one input later: the simulation makes it before that input */
        res = replay_rewritten(&jc, 5, NULL, 1, NULL);
        assert_false(res.identical);
        assert_true(res.seq == 5);
        assert_string_equal(res.why, "extra decision");
        assert_string_equal(res.got, x->text);
        sched_journal_replay_result_done(&res);

        /* a decision the simulation never makes, at the end */
        free(edited);
        assert_true(asprintf(&edited,
                             "{\"seq\":%zu,\"time\":99999,\"job\":\"etl-1\",\"pending\":\"not placed\"}",
                             jc.n_decisions + 1) > 0);
        res = replay_rewritten(&jc, 0, NULL, 0, edited);
        assert_false(res.identical);
        assert_true(res.seq == jc.n_decisions + 1);
        assert_string_equal(res.why, "missing decision");
        assert_string_equal(res.expected, edited);
        sched_journal_replay_result_done(&res);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cluster_format),  cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_hash_chain),      cmocka_unit_test(test_corruption),
                cmocka_unit_test(test_damaged_tail),    cmocka_unit_test(test_truncate_everywhere),
                cmocka_unit_test(test_write_error),     cmocka_unit_test(test_unvouched_decision),
                cmocka_unit_test(test_replay_examples), cmocka_unit_test(test_replay_truncated),
                cmocka_unit_test(test_replay_differs),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
