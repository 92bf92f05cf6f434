/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* spec (a safe default config.json, as runc's) and features (what berth supports). */

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "basic/fileio.h"
#include "basic/strbuf.h"
#include "oci/default-spec.h"
#include "runtime/seccomp.h"
#include "verbs.h"

int verb_spec(int argc, char **argv, const GlobalOptions *g)
{
        enum { ARG_ROOTLESS = 0x100 };
        static const struct option opts[] = {
                {"bundle", required_argument, NULL, 'b'},
                {"rootless", no_argument, NULL, ARG_ROOTLESS},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *bundle = ".";
        bool rootless = false;
        int c;

        while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        bundle = optarg;
                        break;
                case ARG_ROOTLESS:
                        rootless = true;
                        break;
                case 'h':
                        printf("Usage: berth-runtime spec [--bundle DIR] [--rootless]\n\n"
                               "Write a config.json with safe defaults into the bundle directory.\n");
                        return 0;
                default:
                        return verb_usage_error("spec", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return verb_usage_error("spec", "unexpected argument \"%s\"", argv[optind]);

        _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return verb_fail("spec", NULL, "cannot open the bundle directory");
        struct stat st;
        if (fstatat(dfd, "config.json", &st, 0) == 0) {
                char msg[600];
                snprintf(msg, sizeof(msg), "\"%s/config.json\" already exists: remove it first", bundle);
                return verb_fail("spec", NULL, msg);
        }
        _cleanup_free_ char *text = oci_default_spec_render(rootless);
        if (!text)
                return verb_fail("spec", NULL, "out of memory");
        int r = write_file_atomic_at(dfd, "config.json", text, strlen(text), 0644, WRITE_FILE_SYNC);
        if (r < 0) {
                char msg[600];
                snprintf(msg, sizeof(msg), "write \"%s/config.json\": %s", bundle, strerror(-r));
                return verb_fail("spec", NULL, msg);
        }
        return 0;
}

int verb_features(int argc, char **argv, const GlobalOptions *g)
{
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: berth-runtime features\n\nPrint the features of this runtime as JSON.\n");
                return 0;
        }
        strbuf_puts(
                &b,
                "{\n"
                "  \"ociVersionMin\": \"1.0.0\",\n"
                "  \"ociVersionMax\": \"1.2.0\",\n"
                "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", "
                "\"poststart\", \"poststop\"],\n"
                "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"defaults\", \"dev\", \"diratime\", "
                "\"dirsync\", \"exec\", \"mand\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", "
                "\"nomand\", \"norelatime\", \"nostrictatime\", \"nosuid\", \"private\", \"rbind\", "
                "\"relatime\", \"remount\", \"ro\", \"rprivate\", \"rshared\", \"rslave\", \"runbindable\", "
                "\"rw\", \"shared\", \"slave\", \"strictatime\", \"suid\", \"sync\", \"unbindable\", "
                "\"rro\", \"rrw\", \"rnosuid\", \"rsuid\", \"rnodev\", \"rdev\", \"rnoexec\", \"rexec\", "
                "\"rnoatime\", \"ratime\", \"rrelatime\", \"rnorelatime\", \"rstrictatime\", "
                "\"rnostrictatime\", \"rnodiratime\", \"rdiratime\"],\n"
                "  \"linux\": {\n"
                "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"time\", "
                "\"user\", "
                "\"uts\"],\n"
                "    \"capabilities\": [");
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
                char *name = cap_to_name(cap);
                if (!name)
                        continue;
                for (char *s = name; *s; s++)
                        *s = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
                strbuf_printf(&b, "%s\"%s\"", cap ? ", " : "", name);
                cap_free(name);
        }
        strbuf_puts(
                &b,
                "],\n"
                "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false},\n"
                "    \"seccomp\": ");
        seccomp_features_write(&b);
        strbuf_puts(&b, ",\n"
                        "    \"apparmor\": {\"enabled\": false},\n"
                        "    \"selinux\": {\"enabled\": false},\n"
                        "    \"mountExtensions\": {\"idmap\": {\"enabled\": false}}\n"
                        "  },\n"
                        "  \"annotations\": {\"org.opencontainers.runc.checkpoint.enabled\": \"false\"}\n"
                        "}\n");
        if (strbuf_failed(&b))
                return verb_fail("features", NULL, "out of memory");
        fputs(b.ptr, stdout);
        return 0;
}
