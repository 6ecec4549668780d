/*
 * The one error carrier: a function that can fail returns 0 / -1 and, on
 * failure, leaves a one-line reason for people in a struct cv_err that the
 * caller owns (usually on the stack).
 */
#ifndef CV_CVERR_H
#define CV_CVERR_H

struct cv_err {
	char	msg[512];
};

/* Always returns -1, so callers can write: return cv_err_set(e, ...); */
int	cv_err_set(struct cv_err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prefixes the current message: "prefix: old message". */
void	cv_err_prefix(struct cv_err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
