/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The scheduler's journal: every input the simulation takes in and every decision it makes,
 * appended as JSON lines, each decision carrying a SHA-256 over all the journal's bytes before
 * it. A journal can be loaded back (the hash chain checked, a torn last record cut) and replayed:
 * the decisions recomputed from the recorded inputs and compared with the recorded ones.
 * docs/scheduler.md, "Journal and replay", has the format and the rules.
 *
 * Unlike the rest of src/sched this module does I/O: it owns the journal file, its grouped writes
 * and fdatasync. The decisions themselves still come from the pure simulation.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/strbuf.h"
#include "cluster.h"
#include "jobs.h"
#include "sim.h"

/* The format version in the header ("berth_journal":1). */
#define JOURNAL_VERSION 1

/* Records are written in groups of about this many bytes, each group followed by fdatasync. */
#define JOURNAL_GROUP_BYTES (1024 * 1024)

typedef struct Journal Journal;

/**
 * sched_journal_create() - create (or truncate) the journal file @path and write its header:
 * the options @o, the gangs and the canonical cluster @c. @raw_lines[i] is the original text of
 * input i (what the caller gave sched_input_parse_line()); input records quote it. The journal
 * keeps the pointers @c and @raw_lines (not copies): both must outlive it. On success *@ret owns
 * the journal (finish with sched_journal_close()). Returns 0, -ENOMEM or the -errno of open,
 * with "create PATH: ..." in @err.
 */
int sched_journal_create(const char *path, const SimOptions *o, const Cluster *c, const SimGang *gangs,
                         size_t n_gangs, const char *const *raw_lines, Journal **ret, BerthError *err);

/**
 * sched_journal_append_input() - append an input record
 * {"time":T,"index":I,"line":N,"input":"<@raw>"}: input @index (its position in the caller's
 * array, which orders ties in the simulation) from line @line, taken in at @time.
 * Returns 0 or the -errno of a failed group write (sticky: every later call returns it too, and
 * sched_journal_close() reports it with its message).
 */
int sched_journal_append_input(Journal *j, uint64_t time, size_t index, unsigned line, const char *raw);

/**
 * sched_journal_append_decision() - append decision record @text (a JSON object of @len bytes,
 * as sched_sim_record_format() gives it, without newline) with ,"sha256":"<hex>" inserted before
 * its final '}': the SHA-256 of every journal byte before this record. Returns as
 * sched_journal_append_input().
 */
int sched_journal_append_decision(Journal *j, const char *text, size_t len);

/**
 * sched_journal_sink() - a SimSink (@journal is the Journal): an INPUT record becomes an input
 * record, a decision a decision record, FINISH records are not journalled. Returns as
 * sched_journal_append_input().
 */
int sched_journal_sink(const SimRecord *r, void *journal);

/**
 * sched_journal_close() - write what is buffered, fdatasync, close and free @j (all of it, also
 * when something fails). Accepts NULL. Returns 0, or the first write error of the journal's life
 * with "write PATH: ..." in @err.
 */
int sched_journal_close(Journal *j, BerthError *err);

/** sched_journal_closep() - for _cleanup_: closes and frees, ignoring errors (a path already failing). */
void sched_journal_closep(Journal **j);

/** sched_journal_bytes() - the journal's size so far, buffered bytes included. */
uint64_t sched_journal_bytes(const Journal *j);

/*
 * For sched_journal_sink(), which formats a decision straight into the write buffer:
 * sched_journal_decision_begin() returns the buffer to append the decision's JSON text to (NULL
 * after a write error), sched_journal_decision_end() inserts the sha256 member and the newline.
 */
StrBuf *sched_journal_decision_begin(Journal *j);
int sched_journal_decision_end(Journal *j);

/** sched_journal_cluster() - the cluster @j was created with. */
const Cluster *sched_journal_cluster(const Journal *j);

/** sched_journal_raw_line() - the original text of input @i, as given to sched_journal_create(). */
const char *sched_journal_raw_line(const Journal *j, size_t i);

/* A decision as recorded: its text without the sha256 member, exactly as sched_sim_record_format()
 * gave it. */
typedef struct JournalDecision {
        uint64_t seq;
        const char *text;     /* points into JournalContents' buffer */
        size_t inputs_before; /* how many input records precede it in the journal */
        uint64_t record;      /* 1-based record number (the header is record 1) */
        uint64_t offset;      /* byte offset of the record */
} JournalDecision;

typedef struct JournalContents {
        bool has_header; /* false only for an empty journal (nothing, or a torn header) */
        SimOptions options;
        Cluster *cluster;
        SimGang *gangs; /* sorted by name */
        size_t n_gangs;
        SchedInput *inputs; /* by their recorded index: the order to give the simulation */
        char **raw_lines;   /* parallel to inputs: the original text of each */
        size_t n_inputs;
        size_t *taken; /* the input records in journal order, as positions in inputs */
        JournalDecision *decisions;
        size_t n_decisions;
        uint64_t records;    /* whole records kept, the header included */
        uint64_t bytes_kept; /* the journal's valid prefix */
        uint64_t bytes_cut;  /* a torn or damaged last record after it, cut; 0 when none */
        char *buffer;        /* the file, owned */
} JournalContents;

/**
 * sched_journal_load() - read the journal at @path: the header, every input (parsed again with
 * sched_input_parse_line() under its recorded line number) and every decision, checking the hash
 * chain and that decisions are numbered 1, 2, ... A last record without its newline, or one that
 * does not parse or whose hash is wrong, is a torn write: it is cut (bytes_kept, bytes_cut) and
 * the rest kept. Damage anywhere before it is an error naming the record and its byte offset
 * ("record 57 at byte 12345: sha256 mismatch"). An empty file is an empty journal. On success
 * *@ret is filled (release with sched_journal_contents_done()). Returns 0, -EINVAL (damaged or not
 * a journal), -EPROTONOSUPPORT (another format version), -ENOMEM or the -errno of reading.
 */
int sched_journal_load(const char *path, JournalContents *ret, BerthError *err);

/** sched_journal_contents_done() - free what @jc owns and zero it; accepts a zeroed one. */
void sched_journal_contents_done(JournalContents *jc);

typedef struct JournalReplayResult {
        bool identical;     /* every recorded decision recomputed identically */
        uint64_t decisions; /* recorded decisions that matched */
        /* at the first difference: */
        uint64_t seq; /* the decision's number (the recorded one, or the simulation's) */
        /* static text: "job differs", "kind differs", "node differs", "gpus differ", "time
         * differs", "seq differs", "record differs", "extra decision", "missing decision",
         * "input differs" */
        const char *why;
        char *expected; /* what the journal has there */
        char *got;      /* what the simulation gave there */
} JournalReplayResult;

/**
 * sched_journal_replay() - run the simulation over @jc's cluster, inputs, gangs and options and
 * compare its records, in order, with the journal's: the same inputs taken in at the same places,
 * the same decisions. Stops at the first difference (*@ret says what) or once every recorded
 * record is matched: decisions past the journal's end are not looked at (a cut journal is a
 * prefix). A journal with no decisions replays identical. Returns 0 with *@ret filled (release
 * with sched_journal_replay_result_done()), or -EINVAL/-ENOMEM when the simulation refuses the
 * recorded inputs (message in @err).
 */
int sched_journal_replay(const JournalContents *jc, JournalReplayResult *ret, BerthError *err);

/** sched_journal_replay_result_done() - free what @r owns and zero it. */
void sched_journal_replay_result_done(JournalReplayResult *r);
