/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image verbs. Each sees argv starting at its own name and returns the exit status. */

/**
 * berth_pull() - `berth pull [--storage DIR] [--platform P] [--tls-verify=false] [--quiet] REF`:
 * pull an image into the store and print its manifest digest. Errors are one line on stderr,
 * "berth: pull REF: cause", and exit status 1.
 */
int berth_pull(int argc, char **argv);

/** berth_images() - `berth images [--storage DIR]`: "NAME DIGEST" per image, sorted by name. */
int berth_images(int argc, char **argv);
