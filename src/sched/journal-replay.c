/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal's side that runs the simulation: the sink that records it, and replay. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "journal.h"
#include "sched-json.h"

int sched_journal_sink(const SimRecord *r, void *journal)
{
        Journal *j = journal;
        StrBuf *b;

        if (r->type == SIM_RECORD_INPUT) {
                return sched_journal_append_input(j, r->time, r->input, r->line,
                                                  sched_journal_raw_line(j, r->input));
        }
        if (!sched_sim_record_is_decision(r->type))
                return 0;
        b = sched_journal_decision_begin(j);
        if (!b)
                return sched_journal_decision_end(j); /* the sticky error */
        sched_sim_record_format(r, sched_journal_cluster(j), b);
        return sched_journal_decision_end(j);
}

void sched_journal_replay_result_done(JournalReplayResult *r)
{
        if (!r)
                return;
        free(r->expected);
        free(r->got);
        *r = (JournalReplayResult){};
}

typedef struct Replay {
        const JournalContents *jc;
        size_t next_input;    /* input records matched */
        size_t next_decision; /* decision records matched */
        StrBuf got;
        JournalReplayResult *res;
        bool stopped; /* the sink stopped the simulation: all matched, or a difference */
} Replay;

static bool replay_at_end(const Replay *rp)
{
        return rp->next_input == rp->jc->n_inputs && rp->next_decision == rp->jc->n_decisions;
}

/* Whether the journal's next record is a decision (else an input, or the end). */
static bool replay_want_decision(const Replay *rp)
{
        return rp->next_decision < rp->jc->n_decisions &&
               rp->jc->decisions[rp->next_decision].inputs_before == rp->next_input;
}

static uint64_t replay_next_seq(const Replay *rp)
{
        return rp->next_decision < rp->jc->n_decisions ? rp->jc->decisions[rp->next_decision].seq
                                                       : rp->next_decision + 1;
}

static char *input_describe(const JournalContents *jc, size_t i)
{
        StrBuf b = STRBUF_INIT;

        strbuf_puts(&b, "input ");
        strbuf_puts(&b, jc->raw_lines[i]);
        return strbuf_steal(&b);
}

/* A member of a decision's JSON as text, "" when absent. */
static const char *member_text(struct json_object *o, const char *key)
{
        struct json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v))
                return "";
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static bool member_differs(struct json_object *a, struct json_object *b, const char *key)
{
        return !streq(member_text(a, key), member_text(b, key));
}

/* Why two decision texts differ, the most telling difference first. */
static const char *decision_why(const char *expected, const char *got)
{
        _cleanup_(json_object_putp) struct json_object *a = NULL, *b = NULL;
        static const char *const kinds[] = {"pending", "preempted_by", "requeued"};

        if (sched_json_parse_text(expected, &a, NULL) < 0 || sched_json_parse_text(got, &b, NULL) < 0)
                return "record differs";
        if (member_differs(a, b, "job"))
                return "job differs";
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (json_object_object_get_ex(a, kinds[i], NULL) !=
                    json_object_object_get_ex(b, kinds[i], NULL))
                        return "kind differs";
        if (member_differs(a, b, "node"))
                return "node differs";
        if (member_differs(a, b, "gpus"))
                return "gpus differ";
        if (member_differs(a, b, "time"))
                return "time differs";
        if (member_differs(a, b, "seq"))
                return "seq differs";
        return "record differs";
}

static int replay_differs(Replay *rp, uint64_t seq, const char *why, char *expected, char *got)
{
        _cleanup_free_ char *e = expected, *g = got;

        rp->stopped = true;
        if (!e || !g)
                return -ENOMEM;
        *rp->res = (JournalReplayResult){
                .decisions = rp->next_decision,
                .seq = seq,
                .why = why,
                .expected = TAKE_PTR(e),
                .got = TAKE_PTR(g),
        };
        return -ECANCELED;
}

static int replay_sink(const SimRecord *r, void *userdata)
{
        Replay *rp = userdata;
        const JournalContents *jc = rp->jc;

        if (r->type != SIM_RECORD_INPUT && !sched_sim_record_is_decision(r->type))
                return 0;
        if (r->type == SIM_RECORD_INPUT) {
                size_t want = jc->taken[rp->next_input];

                if (replay_want_decision(rp))
                        return replay_differs(rp, replay_next_seq(rp), "missing decision",
                                              strdup(jc->decisions[rp->next_decision].text),
                                              input_describe(jc, r->input));
                if (r->input != want)
                        return replay_differs(rp, replay_next_seq(rp), "input differs",
                                              input_describe(jc, want), input_describe(jc, r->input));
                rp->next_input++;
        } else {
                const char *expected;

                rp->got.len = 0;
                sched_sim_record_format(r, jc->cluster, &rp->got);
                if (strbuf_failed(&rp->got))
                        return -ENOMEM;
                if (!replay_want_decision(rp))
                        return replay_differs(rp, r->seq, "extra decision",
                                              input_describe(jc, jc->taken[rp->next_input]),
                                              strdup(rp->got.ptr));
                expected = jc->decisions[rp->next_decision].text;
                if (!streq(expected, rp->got.ptr))
                        return replay_differs(rp, replay_next_seq(rp), decision_why(expected, rp->got.ptr),
                                              strdup(expected), strdup(rp->got.ptr));
                rp->next_decision++;
        }
        if (replay_at_end(rp)) {
                /* Everything recorded is matched: what the simulation does next, the journal never saw. */
                rp->stopped = true;
                *rp->res = (JournalReplayResult){.identical = true, .decisions = rp->next_decision};
                return -ECANCELED;
        }
        return 0;
}

int sched_journal_replay(const JournalContents *jc, JournalReplayResult *ret, BerthError *err)
{
        JournalReplayResult res = {};
        Replay rp = {.jc = jc, .got = STRBUF_INIT, .res = &res};
        BerthError sim_err = {}; /* the simulation also reports the sink stopping it */
        int r;

        assert(jc && ret);
        if (!jc->has_header || (jc->n_inputs == 0 && jc->n_decisions == 0)) {
                *ret = (JournalReplayResult){.identical = true};
                return 0;
        }
        r = sched_sim_run(jc->cluster, jc->inputs, jc->n_inputs, jc->gangs, jc->n_gangs, &jc->options,
                          replay_sink, &rp, NULL, &sim_err);
        strbuf_done(&rp.got);
        if (r == -ECANCELED && rp.stopped) {
                *ret = res;
                return 0;
        }
        if (r < 0) {
                sched_journal_replay_result_done(&res);
                if (err && err->code == 0)
                        *err = sim_err;
                return r;
        }
        /* The simulation ended with records of the journal left over. */
        assert(!replay_at_end(&rp));
        if (replay_want_decision(&rp))
                r = replay_differs(&rp, replay_next_seq(&rp), "missing decision",
                                   strdup(jc->decisions[rp.next_decision].text),
                                   strdup("(the simulation ended)"));
        else
                r = replay_differs(&rp, replay_next_seq(&rp), "input differs",
                                   input_describe(jc, jc->taken[rp.next_input]),
                                   strdup("(the simulation ended)"));
        if (r == -ENOMEM) {
                sched_journal_replay_result_done(&res);
                return r;
        }
        *ret = res;
        return 0;
}
