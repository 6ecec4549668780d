/*
 * netsh-style binding arguments: the input is words separated by NUL or
 * blanks ("ipport=0.0.0.0:443 certhash=... appid={...} stop='...'"), each
 * KEY=VALUE applied with binding_set_key() as a [binding] section line
 * would be, then binding_finish(); the same pairs as a JSON overlay go
 * through binding_rebuild(), the path of "certvigil binding add/update".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "binding.h"
#include "fuzz.h"

FUZZ_DECLARE(binding);

FUZZ_INIT(binding)
{
	return 0;
}

FUZZ_ENTRY(binding)
{
	struct binding	*b, *r;
	struct cv_err	 err;
	json_t		*overlay;
	char		*s, *w, *eq, *save = NULL;
	size_t		 i;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	for (i = 0; i < size; i++)
		s[i] = data[i] == '\0' ? ' ' : (char)data[i];
	s[size] = '\0';
	b = binding_new("fuzz", size > 0 && (data[0] & 1), 1);
	overlay = json_object();
	for (w = strtok_r(s, " \t\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\n", &save)) {
		if ((eq = strchr(w, '=')) == NULL || eq == w)
			continue;
		*eq = '\0';
		/* As the CLI does: netsh spells keys in any case. */
		for (i = 0; w[i] != '\0'; i++)
			if (w[i] >= 'A' && w[i] <= 'Z')
				w[i] = (char)(w[i] - 'A' + 'a');
		(void)binding_set_key(b, w, eq + 1, &err);
		json_object_set_new(overlay, w, json_string(eq + 1));
	}
	if (binding_finish(b, &err) == 0) {
		r = binding_rebuild(b, overlay, &err);
		if (r != NULL)
			binding_free(r);
	}
	json_decref(overlay);
	binding_free(b);
	free(s);
	return 0;
}
