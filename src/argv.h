/* Shell-style word splitting for commands run without a shell. */
#ifndef CV_ARGV_H
#define CV_ARGV_H

#include <stddef.h>

#include "cverr.h"

/*
 * Splits s into words as sh(1) would, without expansions: blanks separate
 * words, '...' is literal, "..." allows \" \\ \$ \` escapes, and a
 * backslash outside quotes takes the next character literally.  *argv is
 * NULL-terminated; free it with argv_free().
 */
int	argv_split(const char *s, char ***argv, size_t *argc, struct cv_err *);
void	argv_free(char **);

#endif
