/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

typedef struct JobIdSlot {
        char *id; /* NULL: empty */
        unsigned line;
} JobIdSlot;

struct JobIdSet {
        JobIdSlot *slots;
        size_t capacity; /* a power of two */
        size_t size;
};

/* FNV-1a: fixed, so the table's layout is the same on every run and every machine. */
static uint64_t id_hash(const char *s)
{
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= UINT64_C(1099511628211);
        }
        return h;
}

static JobIdSlot *slot_find(JobIdSlot *slots, size_t capacity, const char *id)
{
        size_t i = (size_t)id_hash(id) & (capacity - 1);

        while (slots[i].id && !streq(slots[i].id, id))
                i = (i + 1) & (capacity - 1);
        return &slots[i];
}

JobIdSet *sched_job_id_set_new(void)
{
        JobIdSet *s = calloc(1, sizeof(JobIdSet));

        if (!s)
                return NULL;
        s->capacity = 64;
        s->slots = calloc(s->capacity, sizeof(JobIdSlot));
        if (!s->slots)
                return mfree(s);
        return s;
}

JobIdSet *sched_job_id_set_free(JobIdSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->capacity; i++)
                free(s->slots[i].id);
        free(s->slots);
        free(s);
        return NULL;
}

static int set_grow(JobIdSet *s)
{
        size_t capacity;
        JobIdSlot *slots;

        if (__builtin_mul_overflow(s->capacity, 2, &capacity))
                return -ENOMEM;
        slots = calloc(capacity, sizeof(JobIdSlot));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->capacity; i++)
                if (s->slots[i].id)
                        *slot_find(slots, capacity, s->slots[i].id) = s->slots[i];
        free(s->slots);
        s->slots = slots;
        s->capacity = capacity;
        return 0;
}

int sched_job_id_set_add(JobIdSet *s, const char *id, unsigned line, BerthError *err)
{
        JobIdSlot *slot;
        int r;

        assert(s && id);
        slot = slot_find(s->slots, s->capacity, id);
        if (slot->id)
                return error_setx(err, -EEXIST, "line %u: id: duplicate job id \"%s\" (first on line %u)",
                                  line, id, slot->line);
        /* Keep the load under 1/2 so probes stay short. */
        if ((s->size + 1) * 2 > s->capacity) {
                r = set_grow(s);
                if (r < 0)
                        return r;
                slot = slot_find(s->slots, s->capacity, id);
        }
        slot->id = strdup(id);
        if (!slot->id)
                return -ENOMEM;
        slot->line = line;
        s->size++;
        return 0;
}

size_t sched_job_id_set_size(const JobIdSet *s)
{
        return s->size;
}
