/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "sched-json.h"
#include "yaml.h"

#define YAML_DEPTH_MAX 64
/* Aliases share nodes, so a small file can expand hugely ("billion laughs"); cap the expansion. */
#define YAML_NODES_MAX (1u << 22)

typedef struct Converter {
        yaml_document_t *doc;
        size_t n_nodes;
} Converter;

static bool text_is_integer(const char *s)
{
        if (*s == '-' || *s == '+')
                s++;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* [-+]?(digits[.digits?]|.digits)([eE][-+]?digits)? */
static bool text_is_decimal(const char *s)
{
        bool digits = false;

        if (*s == '-' || *s == '+')
                s++;
        for (; *s >= '0' && *s <= '9'; s++)
                digits = true;
        if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++)
                        digits = true;
        if (!digits)
                return false;
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        return *s == '\0';
}

static int scalar_convert(const yaml_node_t *node, struct json_object **ret)
{
        const char *s = (const char *)node->data.scalar.value;
        struct json_object *v;

        if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                v = json_object_new_string_len(s, (int)node->data.scalar.length);
        else if (!*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL")) {
                *ret = NULL;
                return 0;
        } else if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                v = json_object_new_boolean(1);
        else if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                v = json_object_new_boolean(0);
        else if (text_is_integer(s))
                /* The JSON tokener gives the same int (and the same clamping) as a JSON file would. */
                v = json_tokener_parse(*s == '+' ? s + 1 : s);
        else if (text_is_decimal(s))
                /* Kept as text: quantities are parsed exactly from it, never from the double. */
                v = json_object_new_double_s(strtod(s, NULL), s);
        else
                v = json_object_new_string_len(s, (int)node->data.scalar.length);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static int node_convert(Converter *c, const yaml_node_t *node, unsigned depth, struct json_object **ret,
                        BerthError *err);

static int mapping_convert(Converter *c, const yaml_node_t *node, unsigned depth, struct json_object *obj,
                           BerthError *err)
{
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
                const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
                struct json_object *v = NULL;
                const char *key;
                int r;

                if (!k || k->type != YAML_SCALAR_NODE)
                        return error_setx(err, -EINVAL, "line %zu: mapping keys must be scalars",
                                          (k ? k->start_mark.line : node->start_mark.line) + 1);
                key = (const char *)k->data.scalar.value;
                if (json_object_object_get_ex(obj, key, NULL))
                        return error_setx(err, -EINVAL, "line %zu: duplicate key \"%s\"",
                                          k->start_mark.line + 1, key);
                r = node_convert(c, yaml_document_get_node(c->doc, p->value), depth + 1, &v, err);
                if (r < 0)
                        return r;
                if (json_object_object_add(obj, key, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int sequence_convert(Converter *c, const yaml_node_t *node, unsigned depth, struct json_object *arr,
                            BerthError *err)
{
        for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top; i++) {
                struct json_object *v = NULL;
                int r = node_convert(c, yaml_document_get_node(c->doc, *i), depth + 1, &v, err);
                if (r < 0)
                        return r;
                if (json_object_array_add(arr, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        return 0;
}

static int node_convert(Converter *c, const yaml_node_t *node, unsigned depth, struct json_object **ret,
                        BerthError *err)
{
        _cleanup_(json_object_putp) struct json_object *v = NULL;
        int r;

        if (!node)
                return error_setx(err, -EINVAL, "broken YAML document");
        if (depth > YAML_DEPTH_MAX)
                return error_setx(err, -E2BIG, "line %zu: nested deeper than %d levels",
                                  node->start_mark.line + 1, YAML_DEPTH_MAX);
        if (++c->n_nodes > YAML_NODES_MAX)
                return error_setx(err, -E2BIG, "line %zu: aliases expand to more than %u nodes",
                                  node->start_mark.line + 1, YAML_NODES_MAX);
        switch (node->type) {
        case YAML_SCALAR_NODE:
                return scalar_convert(node, ret);
        case YAML_MAPPING_NODE:
                v = json_object_new_object();
                r = v ? mapping_convert(c, node, depth, v, err) : -ENOMEM;
                break;
        case YAML_SEQUENCE_NODE:
                v = json_object_new_array();
                r = v ? sequence_convert(c, node, depth, v, err) : -ENOMEM;
                break;
        default:
                return error_setx(err, -EINVAL, "empty YAML document");
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

static int parser_error(const yaml_parser_t *p, BerthError *err)
{
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        return error_setx(err, -EINVAL, "line %zu, column %zu: %s", p->problem_mark.line + 1,
                          p->problem_mark.column + 1, p->problem ? p->problem : "not valid YAML");
}

int sched_yaml_parse(const char *text, size_t size, struct json_object **ret, BerthError *err)
{
        yaml_parser_t parser;
        yaml_document_t doc, next;
        struct json_object *v = NULL;
        int r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
        if (!yaml_parser_load(&parser, &doc)) {
                r = parser_error(&parser, err);
                yaml_parser_delete(&parser);
                return r;
        }
        if (!yaml_document_get_root_node(&doc))
                r = error_setx(err, -EINVAL, "empty YAML document");
        else
                r = node_convert(&(Converter){.doc = &doc}, yaml_document_get_root_node(&doc), 0, &v, err);
        yaml_document_delete(&doc);
        if (r >= 0) {
                /* A second document would be silently ignored otherwise. */
                if (!yaml_parser_load(&parser, &next))
                        r = parser_error(&parser, err);
                else {
                        if (yaml_document_get_root_node(&next))
                                r = error_setx(err, -EINVAL, "line %zu: more than one YAML document",
                                               next.start_mark.line + 1);
                        yaml_document_delete(&next);
                }
        }
        yaml_parser_delete(&parser);
        if (r < 0) {
                json_object_put(v);
                return r;
        }
        *ret = v;
        return 0;
}
