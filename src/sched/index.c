/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "index.h"
#include "place.h"

#define NIL UINT32_MAX

uint64_t sched_node_key(const NodeState *ns, SchedOrder o)
{
        uint64_t cpu_memory = sched_share_ppm(ns->free_cpu_millis, ns->cpu_millis) +
                              sched_share_ppm(ns->free_memory_bytes, ns->memory_bytes);
        uint64_t gpus = sched_share_ppm(ns->n_free_gpus, ns->n_gpus);

        switch (o) {
        case SCHED_ORDER_BINPACK_CPU:
        case SCHED_ORDER_BINPACK_GPU:
                return cpu_memory + gpus;
        case SCHED_ORDER_SPREAD_GPU:
                return 3 * SCHED_PPM - cpu_memory - gpus;
        case SCHED_ORDER_SPREAD_CPU:
                return 3 * SCHED_PPM - cpu_memory;
        default:
                assert(!"bad order");
                return 0;
        }
}

/* splitmix64's finaliser: treap priorities that are fixed by the node index, so the trees'
 * shape (and so the work a query does, never its answer) is the same on every run. */
static uint32_t node_priority(size_t i)
{
        uint64_t z = (uint64_t)i + UINT64_C(0x9e3779b97f4a7c15);

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* A position in a tree: signature, key, node index. */
typedef struct Position {
        uint64_t signature;
        uint64_t key;
        uint32_t node;
} Position;

static Position link_position(const SchedTreeLink *l, uint32_t v)
{
        return (Position){.signature = l[v].signature, .key = l[v].key, .node = v};
}

/* Whether node @v comes before position @p. */
static bool link_before(const SchedTreeLink *l, uint32_t v, const Position *p)
{
        if (l[v].signature != p->signature)
                return l[v].signature < p->signature;
        if (l[v].key != p->key)
                return l[v].key < p->key;
        return v < p->node;
}

static bool link_before_node(const SchedTreeLink *l, uint32_t a, uint32_t b)
{
        Position p = link_position(l, b);

        return link_before(l, a, &p);
}

static void link_pull(const SchedIndex *x, SchedTreeLink *l, uint32_t v)
{
        const SchedIndexNode *n = &x->nodes[v];
        SchedTreeLink *t = &l[v];
        uint64_t cpu = n->free_cpu_millis, memory = n->free_memory_bytes;
        uint32_t gpus = n->free_gpus;

        for (int side = 0; side < 2; side++) {
                uint32_t ch = side ? t->right : t->left;

                if (ch == NIL)
                        continue;
                if (l[ch].max_free_cpu_millis > cpu)
                        cpu = l[ch].max_free_cpu_millis;
                if (l[ch].max_free_memory_bytes > memory)
                        memory = l[ch].max_free_memory_bytes;
                if (l[ch].max_free_gpus > gpus)
                        gpus = l[ch].max_free_gpus;
        }
        t->max_free_cpu_millis = cpu;
        t->max_free_memory_bytes = memory;
        t->max_free_gpus = gpus;
}

/* Join two treaps, every node of @a before every node of @b. */
static uint32_t treap_merge(const SchedIndex *x, SchedTreeLink *l, uint32_t a, uint32_t b)
{
        if (a == NIL)
                return b;
        if (b == NIL)
                return a;
        if (x->nodes[a].priority > x->nodes[b].priority) {
                l[a].right = treap_merge(x, l, l[a].right, b);
                link_pull(x, l, a);
                return a;
        }
        l[b].left = treap_merge(x, l, a, l[b].left);
        link_pull(x, l, b);
        return b;
}

/* Cut treap @t into the nodes before node @v and those after it (@v itself is not in @t). */
static void treap_split(const SchedIndex *x, SchedTreeLink *l, uint32_t t, uint32_t v, uint32_t *ret_lo,
                        uint32_t *ret_hi)
{
        if (t == NIL) {
                *ret_lo = *ret_hi = NIL;
                return;
        }
        if (link_before_node(l, t, v)) {
                treap_split(x, l, l[t].right, v, &l[t].right, ret_hi);
                *ret_lo = t;
        } else {
                treap_split(x, l, l[t].left, v, ret_lo, &l[t].left);
                *ret_hi = t;
        }
        link_pull(x, l, t);
}

static uint32_t treap_insert(const SchedIndex *x, SchedTreeLink *l, uint32_t t, uint32_t v)
{
        if (t == NIL || x->nodes[v].priority > x->nodes[t].priority) {
                treap_split(x, l, t, v, &l[v].left, &l[v].right);
                link_pull(x, l, v);
                return v;
        }
        if (link_before_node(l, v, t))
                l[t].left = treap_insert(x, l, l[t].left, v);
        else
                l[t].right = treap_insert(x, l, l[t].right, v);
        link_pull(x, l, t);
        return t;
}

static uint32_t treap_erase(const SchedIndex *x, SchedTreeLink *l, uint32_t t, uint32_t v)
{
        assert(t != NIL);
        if (t == v)
                return treap_merge(x, l, l[v].left, l[v].right);
        if (link_before_node(l, v, t))
                l[t].left = treap_erase(x, l, l[t].left, v);
        else
                l[t].right = treap_erase(x, l, l[t].right, v);
        link_pull(x, l, t);
        return t;
}

static bool subtree_may_fit(const SchedTreeLink *t, const SchedNeed *need)
{
        return t->max_free_cpu_millis >= need->cpu_millis &&
               t->max_free_memory_bytes >= need->memory_bytes && t->max_free_gpus >= need->n_gpus;
}

static bool node_fits(const SchedIndexNode *n, const SchedNeed *need)
{
        return n->free_cpu_millis >= need->cpu_millis && n->free_memory_bytes >= need->memory_bytes &&
               n->free_gpus >= need->n_gpus;
}

/* The first node of treap @t that fits @need. The maxima prune a subtree only when no node in it
 * can fit, so this is exact; it is fast when they prune well, which they do when free capacity
 * follows the key, as it does within a class. */
static uint32_t treap_first(const SchedIndex *x, const SchedTreeLink *l, uint32_t t, const SchedNeed *need)
{
        while (t != NIL && subtree_may_fit(&l[t], need)) {
                uint32_t r = treap_first(x, l, l[t].left, need);

                if (r != NIL)
                        return r;
                if (node_fits(&x->nodes[t], need))
                        return t;
                t = l[t].right;
        }
        return NIL;
}

/* The first node of treap @t after position @after that fits @need. */
static uint32_t treap_first_after(const SchedIndex *x, const SchedTreeLink *l, uint32_t t,
                                  const SchedNeed *need, const Position *after)
{
        while (t != NIL && subtree_may_fit(&l[t], need)) {
                uint32_t r;

                /* t at or before the bound: only its right subtree can be after it */
                if (link_before(l, t, after) || t == after->node) {
                        t = l[t].right;
                        continue;
                }
                r = treap_first_after(x, l, l[t].left, need, after);
                if (r != NIL)
                        return r;
                if (node_fits(&x->nodes[t], need))
                        return t;
                return treap_first(x, l, l[t].right, need);
        }
        return NIL;
}

size_t sched_index_first(const SchedIndex *x, size_t class, SchedOrder o, const SchedNeed *need)
{
        uint32_t v;

        assert(x && class < x->n_classes && o < _SCHED_ORDER_MAX && need);
        assert(x->classes[class].active[o]);
        v = treap_first(x, x->links[o], x->classes[class].root[o], need);
        return v == NIL ? SCHED_INDEX_NONE : v;
}

size_t sched_index_next(const SchedIndex *x, size_t class, SchedOrder o, const SchedNeed *need, size_t after,
                        bool skip_group)
{
        Position bound;
        uint32_t v;

        assert(x && class < x->n_classes && o < _SCHED_ORDER_MAX && need);
        assert(after < x->n_nodes && x->nodes[after].linked && x->nodes[after].class == class);
        bound = link_position(x->links[o], (uint32_t)after);
        if (skip_group) {
                /* past every node with that signature: keys are at most 3,000,000 */
                bound.key = UINT64_MAX;
                bound.node = NIL;
        }
        v = treap_first_after(x, x->links[o], x->classes[class].root[o], need, &bound);
        return v == NIL ? SCHED_INDEX_NONE : v;
}

static uint64_t node_signature(const SchedClass *k, const NodeState *ns)
{
        uint64_t sig = 0;

        for (uint32_t g = 0; g < ns->n_gpus; g++) {
                if (ns->gpu_owner[g] != SCHED_OWNER_NONE)
                        continue;
                if (k->signature == SCHED_SIGNATURE_COUNTS)
                        sig += UINT64_C(1) << (k->count_bits * ns->gpu_domain[g]);
                else if (k->signature == SCHED_SIGNATURE_MASK)
                        sig |= UINT64_C(1) << g;
        }
        return sig;
}

/* Whether trees of order @o group nodes by signature: only GPU jobs walk them. */
static bool order_grouped(SchedOrder o)
{
        return o == SCHED_ORDER_BINPACK_GPU || o == SCHED_ORDER_SPREAD_GPU;
}

/* Put node @i (up, in class @k) into @k's tree of order @o, at its current position. */
static void link_insert(SchedIndex *x, SchedClass *k, SchedOrder o, size_t i, const NodeState *ns,
                        uint64_t signature)
{
        SchedTreeLink *l = x->links[o];

        l[i] = (SchedTreeLink){
                .key = sched_node_key(ns, o),
                .signature = order_grouped(o) ? signature : 0,
                .left = NIL,
                .right = NIL,
        };
        k->root[o] = treap_insert(x, l, k->root[o], (uint32_t)i);
}

void sched_index_update(SchedIndex *x, size_t i, const NodeState *ns)
{
        uint64_t signature;
        SchedIndexNode *n;
        SchedClass *k;

        assert(x && ns && i < x->n_nodes);
        n = &x->nodes[i];
        k = &x->classes[n->class];
        /* the old keys are still in the links, which is what erasing needs */
        if (n->linked)
                for (int o = 0; o < _SCHED_ORDER_MAX; o++)
                        if (k->active[o])
                                k->root[o] = treap_erase(x, x->links[o], k->root[o], (uint32_t)i);
        n->free_cpu_millis = ns->free_cpu_millis;
        n->free_memory_bytes = ns->free_memory_bytes;
        n->free_gpus = ns->n_free_gpus;
        n->linked = ns->up;
        if (!n->linked)
                return;
        signature = node_signature(k, ns);
        for (int o = 0; o < _SCHED_ORDER_MAX; o++)
                if (k->active[o])
                        link_insert(x, k, (SchedOrder)o, i, ns, signature);
}

void sched_index_activate(SchedIndex *x, size_t class, SchedOrder o, const NodeState *nodes)
{
        SchedClass *k;

        assert(x && class < x->n_classes && o < _SCHED_ORDER_MAX && nodes);
        k = &x->classes[class];
        if (k->active[o])
                return;
        k->active[o] = true;
        for (size_t i = 0; i < x->n_nodes; i++)
                if (x->nodes[i].class == class && x->nodes[i].linked)
                        link_insert(x, k, o, i, &nodes[i], node_signature(k, &nodes[i]));
}

static int compare_u64(uint64_t a, uint64_t b)
{
        return a < b ? -1 : a > b;
}

/* Total order on the static attributes a class shares: 0 exactly when two nodes may share one. */
static int node_attrs_compare(const Node *a, const NodeState *sa, const Node *b, const NodeState *sb)
{
        int r;

        if ((r = compare_u64(a->cpu_millis, b->cpu_millis)) ||
            (r = compare_u64(a->memory_bytes, b->memory_bytes)) || (r = compare_u64(a->n_gpus, b->n_gpus)) ||
            (r = compare_u64(a->n_labels, b->n_labels)))
                return r;
        for (size_t i = 0; i < a->n_labels; i++)
                if ((r = strcmp(a->labels[i].key, b->labels[i].key)) ||
                    (r = strcmp(a->labels[i].value, b->labels[i].value)))
                        return r;
        for (size_t g = 0; g < a->n_gpus; g++)
                if ((r = strcmp(a->gpus[g].model, b->gpus[g].model)) ||
                    (r = compare_u64(a->gpus[g].memory_bytes, b->gpus[g].memory_bytes)) ||
                    (r = compare_u64(sa->gpu_domain[g], sb->gpu_domain[g])))
                        return r;
        return 0;
}

typedef struct ClassSort {
        const Cluster *cluster;
        const NodeState *nodes;
} ClassSort;

static int node_class_compare(const void *pa, const void *pb, void *userdata)
{
        const ClassSort *cs = userdata;
        uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
        int r = node_attrs_compare(&cs->cluster->nodes[a], &cs->nodes[a], &cs->cluster->nodes[b],
                                   &cs->nodes[b]);

        return r ? r : compare_u64(a, b);
}

SchedIndex *sched_index_free(SchedIndex *x)
{
        if (!x)
                return NULL;
        free(x->classes);
        free(x->nodes);
        for (int o = 0; o < _SCHED_ORDER_MAX; o++)
                free(x->links[o]);
        free(x);
        return NULL;
}

/*
 * Per-domain counts when every GPU of the class is alike (then the GPU rule sees nothing else)
 * and they fit in 64 bits, a counter of bit width enough for the largest domain per domain;
 * else the free mask when there are at most 64 GPUs; else nothing. Either way nodes with one
 * signature have the same free GPUs in every domain, and the same eligible ones, which is all
 * the GPU rule's fragmentation looks at. Nothing, too, when the GPUs are alike and every domain
 * is a single GPU: no placement there ever fragments, and key order alone finds the best node,
 * where grouping would make the walk visit every signature.
 */
static void class_signature_choose(SchedClass *k, const Node *n, const NodeState *ns)
{
        uint32_t largest = 0, bits = 0;
        bool alike = true;

        for (size_t g = 1; g < n->n_gpus; g++)
                alike = alike && streq(n->gpus[g].model, n->gpus[0].model) &&
                        n->gpus[g].memory_bytes == n->gpus[0].memory_bytes;
        for (uint32_t d = 0; d < ns->n_domains; d++)
                if (ns->domain_size[d] > largest)
                        largest = ns->domain_size[d];
        while (bits < 32 && (UINT64_C(1) << bits) <= largest)
                bits++;
        if (n->n_gpus == 0 || (alike && largest <= 1))
                k->signature = SCHED_SIGNATURE_NONE;
        else if (alike && (uint64_t)bits * ns->n_domains <= 64) {
                k->signature = SCHED_SIGNATURE_COUNTS;
                k->count_bits = bits;
        } else if (n->n_gpus <= 64)
                k->signature = SCHED_SIGNATURE_MASK;
        else
                k->signature = SCHED_SIGNATURE_NONE;
}

/* Group the nodes into classes: @order holds the node indexes sorted by attributes, so each
 * class is a run there. Classes are numbered in the order of their lowest node index, so that
 * when most classes are single nodes the placement loop reads the nodes in order. */
static int index_classes_build(SchedIndex *x, const Cluster *c, const NodeState *nodes,
                               const uint32_t *order)
{
        _cleanup_free_ uint32_t *number = NULL;
        size_t n = c->n_nodes, n_runs = 0;

        x->classes = calloc(n ? n : 1, sizeof(SchedClass));
        number = malloc((n ? n : 1) * sizeof(uint32_t));
        if (!x->classes || !number)
                return -ENOMEM;
        for (size_t r = 0; r < n; r++) {
                uint32_t i = order[r];

                if (r > 0 && node_attrs_compare(&c->nodes[order[r - 1]], &nodes[order[r - 1]], &c->nodes[i],
                                                &nodes[i]) != 0)
                        n_runs++;
                x->nodes[i].class = (uint32_t)n_runs;
                number[n_runs] = NIL;
        }
        for (size_t i = 0; i < n; i++) {
                uint32_t run = x->nodes[i].class;
                SchedClass *k;

                if (number[run] == NIL) {
                        number[run] = (uint32_t)x->n_classes;
                        k = &x->classes[x->n_classes++];
                        *k = (SchedClass){
                                .first_node = i,
                                .cpu_millis = nodes[i].cpu_millis,
                                .memory_bytes = nodes[i].memory_bytes,
                                .n_gpus = nodes[i].n_gpus,
                        };
                        class_signature_choose(k, &c->nodes[i], &nodes[i]);
                        for (int o = 0; o < _SCHED_ORDER_MAX; o++)
                                k->root[o] = NIL;
                }
                x->nodes[i].class = number[run];
                x->classes[number[run]].n_nodes++;
        }
        if (x->n_classes > 0) {
                /* give back what the classes did not need; keeping the larger block is harmless */
                SchedClass *fit = realloc(x->classes, x->n_classes * sizeof(SchedClass));

                if (fit)
                        x->classes = fit;
        }
        return 0;
}

int sched_index_new(const Cluster *c, const NodeState *nodes, SchedIndex **ret)
{
        _cleanup_free_ uint32_t *order = NULL;
        SchedIndex *x;
        size_t n;
        int r;

        assert(c && (nodes || c->n_nodes == 0) && ret);
        n = c->n_nodes;
        if (n >= NIL)
                return -ERANGE;
        x = calloc(1, sizeof(*x));
        order = malloc((n ? n : 1) * sizeof(uint32_t));
        if (!x || !order) {
                free(x);
                return -ENOMEM;
        }
        x->n_nodes = n;
        x->nodes = calloc(n ? n : 1, sizeof(SchedIndexNode));
        if (!x->nodes) {
                sched_index_free(x);
                return -ENOMEM;
        }
        for (int o = 0; o < _SCHED_ORDER_MAX; o++) {
                x->links[o] = calloc(n ? n : 1, sizeof(SchedTreeLink));
                if (!x->links[o]) {
                        sched_index_free(x);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < n; i++) {
                order[i] = (uint32_t)i;
                x->nodes[i].priority = node_priority(i);
        }
        qsort_r(order, n, sizeof(uint32_t), node_class_compare, &(ClassSort){.cluster = c, .nodes = nodes});
        r = index_classes_build(x, c, nodes, order);
        if (r < 0) {
                sched_index_free(x);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                sched_index_update(x, i, &nodes[i]);
        *ret = x;
        return 0;
}
