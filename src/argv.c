#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "xmalloc.h"

int
argv_split(const char *s, char ***out, size_t *outc, struct cv_err *err)
{
	char	**v = NULL, *w = xmalloc(strlen(s) + 1);
	size_t	 n = 0, len = 0;
	int	 inword = 0;
	char	 q = 0;

	for (;; s++) {
		if (q == '\'') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '\'')
				q = 0;
			else
				w[len++] = *s;
			continue;
		}
		if (q == '"') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && strchr("\"\\$`", s[1]) != NULL &&
			    s[1] != '\0')
				w[len++] = *++s;
			else
				w[len++] = *s;
			continue;
		}
		if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
			if (inword) {
				w[len] = '\0';
				v = xreallocarray(v, n + 2, sizeof(*v));
				v[n++] = xstrdup(w);
				v[n] = NULL;	/* argv_free on a later error */
				len = 0;
				inword = 0;
			}
			if (*s == '\0')
				break;
			continue;
		}
		inword = 1;
		if (*s == '\'' || *s == '"')
			q = *s;
		else if (*s == '\\') {
			if (s[1] == '\0') {
				free(w);
				argv_free(v);
				return cv_err_set(err, "trailing backslash");
			}
			w[len++] = *++s;
		} else
			w[len++] = *s;
	}
	free(w);
	if (n == 0) {
		free(v);
		return cv_err_set(err, "empty command");
	}
	v[n] = NULL;
	*out = v;
	if (outc != NULL)
		*outc = n;
	return 0;
unterminated:
	free(w);
	argv_free(v);
	return cv_err_set(err, "unterminated %s quote", q == '"' ? "double" :
	    "single");
}

void
argv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
