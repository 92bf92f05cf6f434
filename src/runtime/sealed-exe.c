/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "sealed-exe.h"

#define SEALED_NAME "berth-runtime-sealed"

bool sealed_exe_active(void)
{
        char target[256];
        ssize_t n = readlink("/proc/self/exe", target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = '\0';
        /* A memfd's link reads "/memfd:NAME (deleted)". */
        return strncmp(target, "/memfd:" SEALED_NAME, strlen("/memfd:" SEALED_NAME)) == 0;
}

int sealed_exe_reexec(char **argv)
{
        _cleanup_close_ int exe = -EBADF, mem = -EBADF;
        struct stat st;
        extern char **environ;

        if (sealed_exe_active())
                return 0;
        exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (exe < 0 || fstat(exe, &st) < 0)
                return negative_errno();
        mem = memfd_create(SEALED_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mem < 0)
                return negative_errno();
        for (off_t off = 0; off < st.st_size;) {
                ssize_t k = sendfile(mem, exe, &off, (size_t)(st.st_size - off));
                if (k < 0 && errno != EINTR)
                        return negative_errno();
                if (k == 0)
                        return -EIO;
        }
        /* No one, not even we, can change the copy from now on. */
        if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return negative_errno();
        syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
        return negative_errno();
}
