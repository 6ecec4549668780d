/* A growable, NUL-terminated byte buffer for building text. */
#ifndef CV_BUF_H
#define CV_BUF_H

#include <stddef.h>

struct buf {
	char	*p;	/* NULL until the first add; the caller frees it */
	size_t	 len;
	size_t	 cap;
};

void	buf_add(struct buf *, const char *, size_t);
void	buf_cat(struct buf *, const char *);
void	buf_fmt(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
