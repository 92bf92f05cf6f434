/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jobs.h"
#include "sched-json.h"

/* Far beyond any trace (31 million years) and small enough that submit + duration cannot overflow. */
#define SCHED_TIME_MAX     INT64_C(1000000000000000)
#define SCHED_JOB_GPUS_MAX 65536

static const char *const job_fields[] = {"id",     "submit",      "duration",  "priority",   "cpu",
                                         "memory", "gpus",        "gpu_model", "gpu_memory", "selector",
                                         "gang",   "preemptible", NULL};
static const char *const event_fields[] = {"event", "node", "at", NULL};

static const char *const node_event_type_table[_NODE_EVENT_TYPE_MAX] = {
        [NODE_EVENT_DOWN] = "node_down",
        [NODE_EVENT_UP] = "node_up",
};

const char *node_event_type_to_string(NodeEventType t)
{
        if (t < 0 || t >= _NODE_EVENT_TYPE_MAX)
                return NULL;
        return node_event_type_table[t];
}

NodeEventType node_event_type_from_string(const char *s)
{
        for (int i = 0; s && i < _NODE_EVENT_TYPE_MAX; i++)
                if (streq(s, node_event_type_table[i]))
                        return (NodeEventType)i;
        return _NODE_EVENT_TYPE_INVALID;
}

void sched_input_done(SchedInput *in)
{
        if (!in)
                return;
        if (in->kind == SCHED_INPUT_JOB) {
                free(in->job.id);
                free(in->job.gpu_model);
                free(in->job.gang);
                for (size_t i = 0; i < in->job.n_selector; i++) {
                        free(in->job.selector[i].key);
                        free(in->job.selector[i].value);
                }
                free(in->job.selector);
        } else if (in->kind == SCHED_INPUT_NODE_EVENT)
                free(in->node_event.node);
        *in = (SchedInput){};
}

static int label_cmp(const void *a, const void *b)
{
        return strcmp(((const Label *)a)->key, ((const Label *)b)->key);
}

static int selector_parse(struct json_object *v, Job *job, BerthError *err)
{
        if (!json_object_is_type(v, json_type_object))
                return error_setx(err, -EINVAL, "selector: must be an object of strings");
        job->selector = calloc(json_object_object_length(v) + 1, sizeof(Label));
        if (!job->selector)
                return -ENOMEM;
        json_object_object_foreach (v, key, val) {
                Label *l = &job->selector[job->n_selector];
                if (!*key)
                        return error_setx(err, -EINVAL, "selector: label keys must not be empty");
                if (!json_object_is_type(val, json_type_string))
                        return error_setx(err, -EINVAL, "selector.%s: must be a string", key);
                job->n_selector++;
                l->key = strdup(key);
                l->value = strdup(json_object_get_string(val));
                if (!l->key || !l->value)
                        return -ENOMEM;
        }
        qsort(job->selector, job->n_selector, sizeof(Label), label_cmp);
        return 0;
}

static int strdup_opt(const char *s, char **ret)
{
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* The optional fields: gpu_model, gpu_memory, selector, gang, preemptible. */
static int job_parse_options(struct json_object *v, Job *job, BerthError *err)
{
        const char *model, *gang;
        struct json_object *sub;
        int r;

        r = sched_json_get_string(v, "gpu_model", false, "", &model, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "gpu_memory", false, false, "", &job->gpu_memory_bytes, err);
        if (r >= 0)
                r = sched_json_get_string(v, "gang", false, "", &gang, err);
        if (r < 0)
                return r;
        if (job->n_gpus == 0 && (model || job->gpu_memory_bytes > 0))
                return error_setx(err, -EINVAL, "%s: set, but the job asks for no GPUs",
                                  model ? "gpu_model" : "gpu_memory");
        if (json_object_object_get_ex(v, "preemptible", &sub) && sub) {
                if (!json_object_is_type(sub, json_type_boolean))
                        return error_setx(err, -EINVAL, "preemptible: must be true or false");
                job->preemptible = json_object_get_boolean(sub);
        }
        if (json_object_object_get_ex(v, "selector", &sub) && sub) {
                r = selector_parse(sub, job, err);
                if (r < 0)
                        return r;
        }
        r = strdup_opt(model, &job->gpu_model);
        if (r >= 0)
                r = strdup_opt(gang, &job->gang);
        return r;
}

static int job_parse(struct json_object *v, Job *job, BerthError *err)
{
        int64_t submit, duration, priority, gpus;
        const char *id;
        int r;

        r = sched_json_check_object(v, job_fields, "", err);
        if (r >= 0)
                r = sched_json_get_string(v, "id", true, "", &id, err);
        if (r >= 0)
                r = sched_json_get_int(v, "submit", true, 0, SCHED_TIME_MAX, "", &submit, err);
        if (r >= 0)
                r = sched_json_get_int(v, "duration", true, 1, SCHED_TIME_MAX, "", &duration, err);
        if (r >= 0)
                r = sched_json_get_int(v, "priority", true, INT32_MIN, INT32_MAX, "", &priority, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "cpu", true, true, "", &job->cpu_millis, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "memory", true, false, "", &job->memory_bytes, err);
        if (r >= 0)
                r = sched_json_get_int(v, "gpus", true, 0, SCHED_JOB_GPUS_MAX, "", &gpus, err);
        if (r < 0)
                return r;
        job->submit_sec = (uint64_t)submit;
        job->duration_sec = (uint64_t)duration;
        job->priority = priority;
        job->n_gpus = (uint32_t)gpus;
        r = job_parse_options(v, job, err);
        if (r < 0)
                return r;
        job->id = strdup(id);
        return job->id ? 0 : -ENOMEM;
}

static int node_event_parse(struct json_object *v, NodeEvent *ev, BerthError *err)
{
        const char *type, *node;
        int64_t at;
        int r;

        r = sched_json_check_object(v, event_fields, "", err);
        if (r >= 0)
                r = sched_json_get_string(v, "event", true, "", &type, err);
        if (r < 0)
                return r;
        ev->type = node_event_type_from_string(type);
        if (ev->type < 0)
                return error_setx(err, -EINVAL, "event: \"%s\" is not node_down or node_up", type);
        r = sched_json_get_string(v, "node", true, "", &node, err);
        if (r >= 0)
                r = sched_json_get_int(v, "at", true, 0, SCHED_TIME_MAX, "", &at, err);
        if (r < 0)
                return r;
        ev->at_sec = (uint64_t)at;
        ev->node = strdup(node);
        return ev->node ? 0 : -ENOMEM;
}

int sched_input_parse_line(const char *line, unsigned line_no, SchedInput *ret, BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        SchedInput in = {};
        int r;

        r = sched_json_parse_text(line, &root, err);
        if (r >= 0 && !json_object_is_type(root, json_type_object))
                r = error_setx(err, -EINVAL, "must be a JSON object");
        if (r >= 0 && json_object_object_get_ex(root, "event", NULL)) {
                in.kind = SCHED_INPUT_NODE_EVENT;
                in.node_event.line = line_no;
                r = node_event_parse(root, &in.node_event, err);
        } else if (r >= 0) {
                in.kind = SCHED_INPUT_JOB;
                in.job.line = line_no;
                r = job_parse(root, &in.job, err);
        }
        if (r < 0) {
                sched_input_done(&in);
                error_prefix(err, "line %u: ", line_no);
                return r;
        }
        *ret = in;
        return 0;
}

bool sched_gpu_eligible(const Gpu *g, const Job *job)
{
        return (!job->gpu_model || streq(job->gpu_model, g->model)) &&
               g->memory_bytes >= job->gpu_memory_bytes;
}

bool sched_selector_matches(const Node *n, const Job *job)
{
        for (size_t i = 0; i < job->n_selector; i++) {
                const char *v = sched_labels_find(n->labels, n->n_labels, job->selector[i].key);
                if (!v || !streq(v, job->selector[i].value))
                        return false;
        }
        return true;
}

bool sched_job_fits_node(const Node *n, const Job *job)
{
        size_t gpus = 0;

        if (n->cpu_millis < job->cpu_millis || n->memory_bytes < job->memory_bytes ||
            !sched_selector_matches(n, job))
                return false;
        for (size_t i = 0; i < n->n_gpus && gpus < job->n_gpus; i++)
                gpus += sched_gpu_eligible(&n->gpus[i], job);
        return gpus >= job->n_gpus;
}

bool sched_job_fits_some_node(const Cluster *c, const Job *job)
{
        for (size_t i = 0; i < c->n_nodes; i++)
                if (sched_job_fits_node(&c->nodes[i], job))
                        return true;
        return false;
}
