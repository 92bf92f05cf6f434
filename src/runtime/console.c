/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "basic/socket-util.h"
#include "console.h"

int console_create(unsigned rows, unsigned cols, int *ret_master, int *ret_slave, BerthError *err)
{
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        int unlock = 0;

        master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return error_set(err, negative_errno(), "open /dev/pts/ptmx");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return error_set(err, negative_errno(), "unlock pty");
        /* TIOCGPTPEER opens the slave without a path lookup that the container could redirect. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return error_set(err, negative_errno(), "open pty slave");
        if (rows && cols) {
                struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return error_set(err, negative_errno(), "set console size");
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

int console_make_controlling(int slave, BerthError *err)
{
        if (setsid() < 0 && errno != EPERM)
                return error_set(err, negative_errno(), "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return error_set(err, negative_errno(), "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return error_set(err, negative_errno(), "dup pty to fd %d", fd);
        return 0;
}

int console_send_to_socket(const char *path, int master, BerthError *err)
{
        _cleanup_close_ int s = -EBADF;
        int r = socket_connect_unix(path, &s);
        if (r < 0)
                return error_set(err, r, "connect to console socket \"%s\"", path);
        /* runc sends the name of the master along with it; clients ignore it. */
        r = socket_send_all_with_fd(s, "/dev/ptmx", strlen("/dev/ptmx"), master);
        if (r < 0)
                return error_set(err, r, "send pty to console socket \"%s\"", path);
        return 0;
}
