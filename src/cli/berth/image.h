/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image management verbs. Each sees argv starting at its own name and returns the exit status. */

/**
 * berth_image() - `berth image load|save|inspect|prune|rm ...`: OCI layouts and archives in and
 * out of the store, an image's details as JSON, garbage collection. Errors are one line on
 * stderr, "berth: image VERB: cause", and exit status 1.
 */
int berth_image(int argc, char **argv);

/** berth_rmi() - `berth rmi [--storage DIR] REF...`: remove names, then the blobs only they used. */
int berth_rmi(int argc, char **argv);
