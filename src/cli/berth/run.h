/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/**
 * berth_run() - `berth run [options] IMAGE [CMD...]`: pull IMAGE when the store lacks it, unpack
 * its layers by chain id, mount the container's overlay rootfs, write the bundle and run it with
 * the berth-runtime next to this binary in the foreground. Returns the container's exit status
 * (128+N when killed by signal N), or 125 for an error of berth run itself, reported as one line
 * "berth: run IMAGE: cause" on stderr. With -d the container's monitor (monitor.h) runs it in the
 * background and berth run prints its id and returns 0 once it runs. @argv starts at "run".
 */
int berth_run(int argc, char **argv);
