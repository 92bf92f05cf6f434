/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replays a fuzz corpus without libFuzzer: runs LLVMFuzzerTestOneInput() once for every file in
 * the directories (or files) given, or in the target's own corpus (FUZZ_CORPUS_DIR) without
 * arguments, and prints TAP, one case per file, as the unit tests do.
 *
 * Each input runs in a child process: a crash, a sanitizer report (a leak at exit included) or a
 * hang fails that file alone, and what the child wrote to stderr follows as "# " lines.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "fuzz.h"

#ifndef REPLAY_TIMEOUT_S
#define REPLAY_TIMEOUT_S 60 /* seconds for one input */
#endif
#define REPLAY_INPUT_MAX    (16U * 1024U * 1024U)
#define REPLAY_REPORT_LINES 40

static int collect(const char *path, char ***files)
{
        struct dirent **entries;
        struct stat st;
        int n, r = 0;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return strv_extend(files, path);

        n = scandir(path, &entries, NULL, alphasort);
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                char *p = NULL;

                if (r >= 0 && entries[i]->d_name[0] != '.') {
                        if (asprintf(&p, "%s/%s", path, entries[i]->d_name) < 0)
                                r = -ENOMEM;
                        else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                                r = strv_push(files, p);
                        else
                                free(p);
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

/* In the child: the input in a buffer of exactly its size, so that ASan sees any read past it. */
static _noreturn_ void run_one(const char *path)
{
        _cleanup_free_ char *text = NULL;
        uint8_t *data;
        size_t len = 0;
        int r;

        alarm(REPLAY_TIMEOUT_S);
        r = read_full_file_at(AT_FDCWD, path, REPLAY_INPUT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "cannot read %s: %s\n", path, strerror(-r));
                exit(2);
        }
        data = malloc(len ? len : 1);
        if (!data)
                exit(2);
        memcpy(data, text, len);
        free(TAKE_PTR(text));
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        exit(0); /* LeakSanitizer checks here */
}

/* Runs @path in a child; returns true when it exited 0. Its output goes to @out. */
static bool replay(const char *path, FILE *out)
{
        char buf[4096];
        int fds[2], status;
        size_t lines = 0;
        bool bol = true;
        pid_t pid;
        ssize_t n;

        if (pipe2(fds, O_CLOEXEC) < 0) {
                fprintf(out, "# pipe: %s\n", strerror(errno));
                return false;
        }
        fflush(stdout);
        fflush(out);
        pid = fork();
        if (pid < 0) {
                fprintf(out, "# fork: %s\n", strerror(errno));
                close(fds[0]);
                close(fds[1]);
                return false;
        }
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                dup2(fds[1], STDERR_FILENO);
                run_one(path);
        }
        close(fds[1]);
        while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (ssize_t i = 0; i < n && lines < REPLAY_REPORT_LINES; i++) {
                        if (bol)
                                fputs("# ", out);
                        fputc(buf[i], out);
                        bol = buf[i] == '\n';
                        lines += bol;
                }
        }
        if (!bol)
                fputc('\n', out);
        close(fds[0]);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        fprintf(out, "# waitpid: %s\n", strerror(errno));
                        return false;
                }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return true;
        if (WIFSIGNALED(status))
                fprintf(out, "# killed by signal %d (%s)%s\n", WTERMSIG(status), strsignal(WTERMSIG(status)),
                        WTERMSIG(status) == SIGALRM ? ": timed out" : "");
        else
                fprintf(out, "# exit status %d\n", WEXITSTATUS(status));
        return false;
}

int main(int argc, char **argv)
{
        _cleanup_strv_free_ char **files = NULL;
        char *defaults[] = {(char *)FUZZ_CORPUS_DIR, NULL};
        char **dirs = argc > 1 ? argv + 1 : defaults;
        size_t failed = 0, n;

        for (char **d = dirs; *d; d++) {
                int r = collect(*d, &files);
                if (r < 0) {
                        printf("Bail out! %s: %s\n", *d, strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        n = strv_length(files);
        if (n == 0) {
                printf("Bail out! no inputs in %s\n", dirs[0]);
                return EXIT_FAILURE;
        }

        printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                /* The report goes to a buffer first: the TAP line must come before it. */
                _cleanup_free_ char *report = NULL;
                size_t report_len = 0;
                FILE *out = open_memstream(&report, &report_len);
                if (!out)
                        return EXIT_FAILURE;
                bool ok = replay(files[i], out);
                fclose(out);
                const char *name = strrchr(files[i], '/');
                printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1, name ? name + 1 : files[i]);
                if (!ok) {
                        fputs(report, stdout);
                        failed++;
                }
        }
        fflush(stdout);
        return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
