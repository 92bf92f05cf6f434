/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cluster.h"
#include "sched-json.h"
#include "yaml.h"

static const char *const cluster_fields[] = {"nodes", NULL};
static const char *const node_fields[] = {"name", "cpu", "memory", "gpus", "labels", NULL};
static const char *const gpu_fields[] = {"uuid", "model", "memory", "nvlink", NULL};

static int label_cmp(const void *a, const void *b)
{
        return strcmp(((const Label *)a)->key, ((const Label *)b)->key);
}

static int gpu_cmp(const void *a, const void *b)
{
        return strcmp(((const Gpu *)a)->uuid, ((const Gpu *)b)->uuid);
}

static int node_cmp(const void *a, const void *b)
{
        return strcmp(((const Node *)a)->name, ((const Node *)b)->name);
}

static void labels_free(Label *labels, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(labels[i].key);
                free(labels[i].value);
        }
        free(labels);
}

Cluster *sched_cluster_free(Cluster *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_nodes; i++) {
                Node *n = &c->nodes[i];
                free(n->name);
                for (size_t g = 0; g < n->n_gpus; g++) {
                        free(n->gpus[g].uuid);
                        free(n->gpus[g].model);
                }
                free(n->gpus);
                labels_free(n->labels, n->n_labels);
        }
        free(c->nodes);
        free(c);
        return NULL;
}

/* A {key: value} object of strings into a label array sorted by key (the caller frees on failure too). */
static int labels_parse(struct json_object *v, const char *path, Label **ret, size_t *ret_n, BerthError *err)
{
        size_t n = 0;
        char p[512];

        if (!json_object_is_type(v, json_type_object))
                return error_setx(err, -EINVAL, "%s: must be an object of strings", path);
        *ret = calloc(json_object_object_length(v) + 1, sizeof(Label));
        if (!*ret)
                return -ENOMEM;
        json_object_object_foreach (v, key, val) {
                sched_json_path(p, sizeof(p), path, key);
                if (!*key)
                        return error_setx(err, -EINVAL, "%s: label keys must not be empty", path);
                if (!json_object_is_type(val, json_type_string))
                        return error_setx(err, -EINVAL, "%s: must be a string", p);
                (*ret)[n].key = strdup(key);
                (*ret)[n].value = strdup(json_object_get_string(val));
                *ret_n = ++n;
                if (!(*ret)[n - 1].key || !(*ret)[n - 1].value)
                        return -ENOMEM;
        }
        /* json-c keeps one value per key, so keys are unique and the order is total. */
        qsort(*ret, n, sizeof(Label), label_cmp);
        return 0;
}

static int gpu_parse(struct json_object *v, const char *path, Gpu *g, BerthError *err)
{
        const char *uuid, *model;
        int64_t nvlink;
        int r;

        r = sched_json_check_object(v, gpu_fields, path, err);
        if (r < 0)
                return r;
        r = sched_json_get_string(v, "uuid", true, path, &uuid, err);
        if (r >= 0)
                r = sched_json_get_string(v, "model", true, path, &model, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "memory", true, false, path, &g->memory_bytes, err);
        if (r >= 0)
                r = sched_json_get_int(v, "nvlink", true, 0, INT32_MAX - 1, path, &nvlink, err);
        if (r < 0)
                return r;
        g->nvlink = (int32_t)nvlink;
        g->uuid = strdup(uuid);
        g->model = strdup(model);
        return g->uuid && g->model ? 0 : -ENOMEM;
}

static int gpus_parse(struct json_object *v, const char *path, Node *n, BerthError *err)
{
        char p[512];
        size_t len;
        int r;

        if (!json_object_is_type(v, json_type_array))
                return error_setx(err, -EINVAL, "%s: must be an array", path);
        len = json_object_array_length(v);
        n->gpus = calloc(len + 1, sizeof(Gpu));
        if (!n->gpus)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                n->n_gpus = i + 1;
                r = gpu_parse(json_object_array_get_idx(v, i), p, &n->gpus[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int node_parse(struct json_object *v, const char *path, Node *n, BerthError *err)
{
        struct json_object *sub;
        const char *name;
        char p[512];
        int r;

        r = sched_json_check_object(v, node_fields, path, err);
        if (r < 0)
                return r;
        r = sched_json_get_string(v, "name", true, path, &name, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "cpu", true, true, path, &n->cpu_millis, err);
        if (r >= 0)
                r = sched_json_get_quantity(v, "memory", true, false, path, &n->memory_bytes, err);
        if (r < 0)
                return r;
        n->name = strdup(name);
        if (!n->name)
                return -ENOMEM;
        if (json_object_object_get_ex(v, "gpus", &sub) && sub) {
                r = gpus_parse(sub, sched_json_path(p, sizeof(p), path, "gpus"), n, err);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(v, "labels", &sub) && sub) {
                r = labels_parse(sub, sched_json_path(p, sizeof(p), path, "labels"), &n->labels,
                                 &n->n_labels, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A name and where it was in the file, to report duplicates by their file position. */
typedef struct Where {
        const char *name;
        size_t node, gpu;
} Where;

static int where_cmp(const void *a, const void *b)
{
        const Where *x = a, *y = b;
        int c = strcmp(x->name, y->name);

        if (c != 0)
                return c;
        if (x->node != y->node)
                return x->node < y->node ? -1 : 1;
        return x->gpu < y->gpu ? -1 : x->gpu > y->gpu;
}

/* Duplicate node names and GPU uuids, found by sorting (not O(n^2)); the later one in the file is named. */
static int cluster_check_unique(const Cluster *c, BerthError *err)
{
        _cleanup_free_ Where *w = NULL;
        size_t n = 0, total = c->n_nodes;

        for (size_t i = 0; i < c->n_nodes; i++)
                total += c->nodes[i].n_gpus;
        w = calloc(total + 1, sizeof(Where));
        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_nodes; i++)
                w[n++] = (Where){c->nodes[i].name, i, 0};
        qsort(w, n, sizeof(Where), where_cmp);
        for (size_t i = 1; i < n; i++)
                if (streq(w[i].name, w[i - 1].name))
                        return error_setx(err, -EINVAL,
                                          "nodes[%zu].name: duplicate node \"%s\" (also nodes[%zu])",
                                          w[i].node, w[i].name, w[i - 1].node);
        n = 0;
        for (size_t i = 0; i < c->n_nodes; i++)
                for (size_t g = 0; g < c->nodes[i].n_gpus; g++)
                        w[n++] = (Where){c->nodes[i].gpus[g].uuid, i, g};
        qsort(w, n, sizeof(Where), where_cmp);
        for (size_t i = 1; i < n; i++)
                if (streq(w[i].name, w[i - 1].name))
                        return error_setx(err, -EINVAL,
                                          "nodes[%zu].gpus[%zu].uuid: duplicate GPU \"%s\" (also "
                                          "nodes[%zu].gpus[%zu])",
                                          w[i].node, w[i].gpu, w[i].name, w[i - 1].node, w[i - 1].gpu);
        return 0;
}

static int cluster_parse_nodes(struct json_object *nodes, Cluster *c, BerthError *err)
{
        char p[64];
        size_t len;
        int r;

        if (!json_object_is_type(nodes, json_type_array) || json_object_array_length(nodes) == 0)
                return error_setx(err, -EINVAL, "nodes: must be a non-empty array");
        len = json_object_array_length(nodes);
        c->nodes = calloc(len, sizeof(Node));
        if (!c->nodes)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                snprintf(p, sizeof(p), "nodes[%zu]", i);
                c->n_nodes = i + 1;
                r = node_parse(json_object_array_get_idx(nodes, i), p, &c->nodes[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cluster_from_json(struct json_object *root, Cluster **ret, BerthError *err)
{
        _cleanup_(sched_cluster_freep) Cluster *c = NULL;
        struct json_object *nodes;
        int r;

        r = sched_json_check_object(root, cluster_fields, "", err);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(root, "nodes", &nodes) || !nodes)
                return error_setx(err, -EINVAL, "nodes: missing");

        c = calloc(1, sizeof(Cluster));
        if (!c)
                return -ENOMEM;
        r = cluster_parse_nodes(nodes, c, err);
        if (r < 0)
                return r;
        r = cluster_check_unique(c, err);
        if (r < 0)
                return r;

        /* Names and uuids are unique now, so these orders are total and the result canonical. */
        for (size_t i = 0; i < c->n_nodes; i++)
                if (c->nodes[i].n_gpus > 0)
                        qsort(c->nodes[i].gpus, c->nodes[i].n_gpus, sizeof(Gpu), gpu_cmp);
        qsort(c->nodes, c->n_nodes, sizeof(Node), node_cmp);
        *ret = TAKE_PTR(c);
        return 0;
}

int sched_cluster_parse(const char *json_text, Cluster **ret, BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        int r;

        r = sched_json_parse_text(json_text, &root, err);
        if (r < 0)
                return r;
        return cluster_from_json(root, ret, err);
}

/* Memory goes out as a string of digits: a JSON number would refuse UINT64_MAX bytes on the way back. */
static void node_format(const Node *n, StrBuf *out)
{
        strbuf_puts(out, "{\"name\":");
        strbuf_put_json_string(out, n->name);
        strbuf_printf(out, ",\"cpu\":\"%" PRIu64 "m\",\"memory\":\"%" PRIu64 "\"", n->cpu_millis,
                      n->memory_bytes);
        if (n->n_gpus > 0) {
                strbuf_puts(out, ",\"gpus\":[");
                for (size_t g = 0; g < n->n_gpus; g++) {
                        const Gpu *gpu = &n->gpus[g];

                        strbuf_puts(out, g > 0 ? ",{\"uuid\":" : "{\"uuid\":");
                        strbuf_put_json_string(out, gpu->uuid);
                        strbuf_puts(out, ",\"model\":");
                        strbuf_put_json_string(out, gpu->model);
                        strbuf_printf(out, ",\"memory\":\"%" PRIu64 "\",\"nvlink\":%" PRId32 "}",
                                      gpu->memory_bytes, gpu->nvlink);
                }
                strbuf_putc(out, ']');
        }
        if (n->n_labels > 0) {
                strbuf_puts(out, ",\"labels\":{");
                for (size_t l = 0; l < n->n_labels; l++) {
                        if (l > 0)
                                strbuf_putc(out, ',');
                        strbuf_put_json_string(out, n->labels[l].key);
                        strbuf_putc(out, ':');
                        strbuf_put_json_string(out, n->labels[l].value);
                }
                strbuf_putc(out, '}');
        }
        strbuf_putc(out, '}');
}

void sched_cluster_format(const Cluster *c, StrBuf *out)
{
        strbuf_puts(out, "{\"nodes\":[");
        for (size_t i = 0; i < c->n_nodes; i++) {
                if (i > 0)
                        strbuf_putc(out, ',');
                node_format(&c->nodes[i], out);
        }
        strbuf_puts(out, "]}");
}

int sched_cluster_parse_yaml(const char *text, size_t size, Cluster **ret, BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        int r;

        r = sched_yaml_parse(text, size, &root, err);
        if (r < 0)
                return r;
        return cluster_from_json(root, ret, err);
}

const Node *sched_cluster_find_node(const Cluster *c, const char *name)
{
        Node key = {.name = (char *)name};

        return bsearch(&key, c->nodes, c->n_nodes, sizeof(Node), node_cmp);
}

const char *sched_labels_find(const Label *labels, size_t n_labels, const char *key)
{
        Label k = {.key = (char *)key};
        const Label *l;

        if (n_labels == 0)
                return NULL;
        l = bsearch(&k, labels, n_labels, sizeof(Label), label_cmp);
        return l ? l->value : NULL;
}
