/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * config.json: oci_config_parse() and, with the same bytes, oci_process_parse_text() (the file of
 * `exec --process`). A config that parses is checked against what config.h promises, and its
 * linux.resources goes on to the cgroup parsers, as create hands it on.
 */

#include <string.h>

#include "fuzz.h"
#include "oci/config.h"

/* What oci_path_clean() promises: absolute, no "//", no "." component, no trailing '/'. */
static bool path_is_clean(const char *p)
{
        size_t n = strlen(p);

        if (p[0] != '/' || strstr(p, "//") || strstr(p, "/./"))
                return false;
        return n == 1 || (p[n - 1] != '/' && !(n >= 2 && p[n - 2] == '/' && p[n - 1] == '.'));
}

static void check_process(const OciProcess *p)
{
        FUZZ_CHECK(p->args && p->args[0] && p->args[0][0]);
        FUZZ_CHECK(p->cwd && p->cwd[0] == '/');
        for (size_t i = 0; p->env && p->env[i]; i++)
                FUZZ_CHECK(strchr(p->env[i], '=') > p->env[i]);
        FUZZ_CHECK(!p->has_console_size || (p->console_height <= 65535 && p->console_width <= 65535));
        for (size_t i = 0; i < p->n_rlimits; i++) {
                FUZZ_CHECK(p->rlimits[i].soft <= p->rlimits[i].hard);
                for (size_t j = 0; j < i; j++)
                        FUZZ_CHECK(p->rlimits[i].resource != p->rlimits[j].resource);
        }
        for (int s = 0; p->capabilities && s < _CAP_SET_MAX; s++)
                for (size_t i = 0; i < p->capabilities->n_caps[s]; i++)
                        FUZZ_CHECK(p->capabilities->caps[s][i] >= 0);
        FUZZ_CHECK(!p->has_oom_score_adj || (p->oom_score_adj >= -1000 && p->oom_score_adj <= 1000));
}

static void check_config(const OciConfig *c)
{
        const OciLinux *l = &c->linux_;

        FUZZ_CHECK(c->oci_version && c->oci_version[0] == '1');
        FUZZ_CHECK(c->root_path && c->root_path[0]);
        if (c->process)
                check_process(c->process);
        FUZZ_CHECK(!c->hostname || strlen(c->hostname) <= 64);
        FUZZ_CHECK(!c->domainname || strlen(c->domainname) <= 64);
        for (size_t i = 0; i < c->n_mounts; i++) {
                const OciMount *m = &c->mounts[i];
                FUZZ_CHECK(path_is_clean(m->destination));
                FUZZ_CHECK(m->is_bind ? m->source != NULL : m->type != NULL);
                FUZZ_CHECK(!m->is_recursive || m->is_bind);
                FUZZ_CHECK(!m->type || m->type[0]);
                FUZZ_CHECK(!m->data || m->data[0]);
        }
        for (int k = 0; k < _HOOK_MAX; k++)
                for (size_t i = 0; i < c->n_hooks[k]; i++) {
                        FUZZ_CHECK(c->hooks[k][i].path[0] == '/');
                        FUZZ_CHECK(!c->hooks[k][i].has_timeout || c->hooks[k][i].timeout_sec > 0);
                }
        for (size_t i = 0; i < c->n_annotations; i++)
                FUZZ_CHECK(c->annotations[i].key[0] && c->annotations[i].value);
        for (size_t i = 0; i < l->n_namespaces; i++) {
                const OciNamespace *ns = &l->namespaces[i];
                FUZZ_CHECK(namespace_type_to_string(ns->type));
                FUZZ_CHECK(oci_config_find_namespace(c, ns->type) == ns); /* no duplicates */
                FUZZ_CHECK(!ns->path || ns->path[0] == '/');
        }
        const OciNamespace *userns = oci_config_find_namespace(c, NAMESPACE_USER);
        FUZZ_CHECK(userns || (l->n_uid_mappings == 0 && l->n_gid_mappings == 0));
        for (size_t i = 0; i < l->n_uid_mappings; i++)
                FUZZ_CHECK((uint64_t)l->uid_mappings[i].container_id + l->uid_mappings[i].size <=
                           UINT32_MAX);
        for (size_t i = 0; i < l->n_devices; i++) {
                FUZZ_CHECK(strchr("cbup", l->devices[i].type) && l->devices[i].type);
                FUZZ_CHECK(path_is_clean(l->devices[i].path));
        }
        /* A sysctl the container does not own would change the host's. */
        for (size_t i = 0; i < l->n_sysctl; i++)
                FUZZ_CHECK(l->sysctl[i].key[0] && !strstr(l->sysctl[i].key, ".."));
        for (size_t i = 0; l->masked_paths && l->masked_paths[i]; i++)
                FUZZ_CHECK(l->masked_paths[i][0] == '/');
        for (size_t i = 0; l->readonly_paths && l->readonly_paths[i]; i++)
                FUZZ_CHECK(l->readonly_paths[i][0] == '/');
        FUZZ_CHECK(!l->rootfs_propagation || l->rootfs_propagation_flags != 0);
        FUZZ_CHECK(!c->hostname || !c->hostname[0] || oci_config_find_namespace(c, NAMESPACE_UTS));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        BerthError err = {0};
        int r;

        {
                _cleanup_(oci_config_freep) OciConfig *c = NULL;

                r = oci_config_parse((const char *)data, size, &c, &err);
                fuzz_check_result(r, &err);
                if (r >= 0) {
                        check_config(c);
                        /* What create does next with the document. */
                        fuzz_resources(c->linux_.resources, "linux.resources");
                }
        }
        {
                _cleanup_(oci_process_freep) OciProcess *p = NULL;

                err = (BerthError){0};
                r = oci_process_parse_text((const char *)data, size, &p, &err);
                fuzz_check_result(r, &err);
                if (r >= 0)
                        check_process(p);
        }
        return 0;
}
