/*
 * JSON text rewritten to the bytes jansson prints for it with
 * JSON_COMPACT | JSON_PRESERVE_ORDER -- without building a tree.  The CLI
 * prints a full list this way (issue 16): certvigild writes the list's
 * JSON by hand (inventory.c), and scripts keep getting jansson's bytes.
 */
#ifndef CV_JCANON_H
#define CV_JCANON_H

#include <stddef.h>

/*
 * Validates in[0..n) as one JSON array or object and writes it to out
 * (n + 1 bytes; the result is never longer than n): string escapes as jansson writes them
 * (\" \\ \b \f \n \r \t, \u%04X below U+0020, every other character as
 * UTF-8).  Returns the new length, or 0 when the text is not JSON or
 * holds what jansson would print differently (white space, reals, -0,
 * integers of 19 digits or more, nesting deeper than 64): the caller
 * then parses it with jansson instead.
 */
size_t	jcanon_compact(const unsigned char *in, size_t n, unsigned char *out);

#endif
