/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container.json and exit.json of a container started by `berth run`, and its directory lock. */

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "basic/strv.h"
#include "container-meta.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

#define META_MAX_BYTES (1 << 20)

void container_meta_done(ContainerMeta *m)
{
        free(m->id);
        free(m->image);
        free(m->image_digest);
        strv_free(m->command);
        free(m->stop_signal);
        *m = (ContainerMeta){};
}

static json_object *object_get(json_object *o, const char *key, json_type type)
{
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static int strv_from_json(json_object *array, char ***ret)
{
        char **l = NULL;
        size_t n = json_object_array_length(array);

        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(array, i);
                if (!json_object_is_type(v, json_type_string)) {
                        strv_free(l);
                        return -EBADMSG;
                }
                if (strv_extend(&l, json_object_get_string(v)) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = l;
        return 0;
}

int container_meta_from_bundle(ContainerMeta *m, const char *config_json)
{
        _cleanup_(json_object_putp) json_object *root = json_tokener_parse(config_json);
        json_object *args, *sig;
        char **command;
        int r;

        args = object_get(object_get(root, "process", json_type_object), "args", json_type_array);
        if (!args)
                return -EBADMSG;
        r = strv_from_json(args, &command);
        if (r < 0)
                return r;
        strv_free(m->command);
        m->command = command;
        sig = object_get(object_get(root, "annotations", json_type_object),
                         "org.opencontainers.image.stopSignal", json_type_string);
        if (sig) {
                free(m->stop_signal);
                m->stop_signal = strdup(json_object_get_string(sig));
                if (!m->stop_signal)
                        return -ENOMEM;
        }
        return 0;
}

static void put_time(StrBuf *b, time_t t)
{
        struct tm tm;
        char buf[64];

        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        strbuf_put_json_string(b, buf);
}

int container_meta_write(int cdir_fd, const ContainerMeta *m)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_puts(&b, "{\n  \"Id\": ");
        strbuf_put_json_string(&b, m->id);
        strbuf_puts(&b, ",\n  \"Image\": ");
        strbuf_put_json_string(&b, m->image);
        strbuf_puts(&b, ",\n  \"ImageDigest\": ");
        strbuf_put_json_string(&b, m->image_digest);
        strbuf_puts(&b, ",\n  \"Command\": [");
        STRV_FOREACH (a, m->command) {
                if (a != m->command)
                        strbuf_puts(&b, ", ");
                strbuf_put_json_string(&b, *a);
        }
        strbuf_puts(&b, "],\n  \"Created\": ");
        put_time(&b, m->created);
        if (m->stop_signal) {
                strbuf_puts(&b, ",\n  \"StopSignal\": ");
                strbuf_put_json_string(&b, m->stop_signal);
        }
        strbuf_printf(&b, ",\n  \"AutoRemove\": %s,\n  \"Detached\": %s\n}\n",
                      m->auto_remove ? "true" : "false", m->detached ? "true" : "false");
        if (strbuf_failed(&b))
                return -ENOMEM;
        return write_file_atomic_at(cdir_fd, CONTAINER_META_FILE, b.ptr, b.len, 0644, 0);
}

static int read_json(int cdir_fd, const char *name, json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        json_object *o;
        size_t len;
        int r;

        r = read_full_file_at(cdir_fd, name, META_MAX_BYTES, &text, &len);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int dup_member(json_object *o, const char *key, bool required, char **ret)
{
        json_object *v = object_get(o, key, json_type_string);

        if (!v)
                return required ? -EBADMSG : 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static bool bool_member(json_object *o, const char *key)
{
        json_object *v = object_get(o, key, json_type_boolean);

        return v && json_object_get_boolean(v);
}

int container_meta_read(int cdir_fd, ContainerMeta *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(container_meta_done) ContainerMeta m = {};
        _cleanup_free_ char *created = NULL;
        json_object *command;
        int r;

        r = read_json(cdir_fd, CONTAINER_META_FILE, &o);
        if (r < 0)
                return r;
        command = object_get(o, "Command", json_type_array);
        if (!command)
                return -EBADMSG;
        r = dup_member(o, "Id", true, &m.id);
        if (r >= 0)
                r = dup_member(o, "Image", true, &m.image);
        if (r >= 0)
                r = dup_member(o, "ImageDigest", true, &m.image_digest);
        if (r >= 0)
                r = dup_member(o, "StopSignal", false, &m.stop_signal);
        if (r >= 0)
                r = dup_member(o, "Created", true, &created);
        if (r >= 0)
                r = strv_from_json(command, &m.command);
        if (r >= 0)
                r = rfc3339_parse(created, &m.created) < 0 ? -EBADMSG : 0;
        if (r < 0)
                return r;
        m.auto_remove = bool_member(o, "AutoRemove");
        m.detached = bool_member(o, "Detached");
        *ret = m;
        m = (ContainerMeta){};
        return 0;
}

int container_exit_write(int cdir_fd, int code)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_printf(&b, "{\"ExitCode\": %d, \"FinishedAt\": ", code);
        put_time(&b, time(NULL));
        strbuf_puts(&b, "}\n");
        if (strbuf_failed(&b))
                return -ENOMEM;
        return write_file_atomic_at(cdir_fd, CONTAINER_EXIT_FILE, b.ptr, b.len, 0644, 0);
}

int container_exit_read(int cdir_fd, int *ret_code, time_t *ret_finished)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *code, *finished;
        time_t t;
        int r;

        r = read_json(cdir_fd, CONTAINER_EXIT_FILE, &o);
        if (r < 0)
                return r;
        code = object_get(o, "ExitCode", json_type_int);
        finished = object_get(o, "FinishedAt", json_type_string);
        if (!code || !finished || rfc3339_parse(json_object_get_string(finished), &t) < 0)
                return -EBADMSG;
        *ret_code = json_object_get_int(code);
        *ret_finished = t;
        return 0;
}

int rfc3339_parse(const char *s, time_t *ret)
{
        struct tm tm = {};
        const char *end;
        time_t t;

        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        if (*end == '.')
                for (end++; *end >= '0' && *end <= '9'; end++)
                        ;
        if (!streq(end, "Z"))
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = t;
        return 0;
}

int container_dir_lock(int cdir_fd, int how, int timeout_msec)
{
        for (int waited = 0;; waited += 20) {
                if (flock(cdir_fd, how | LOCK_NB) >= 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (waited >= timeout_msec)
                        return -EWOULDBLOCK;
                (void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
        }
}
