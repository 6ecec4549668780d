/*
 * The agent config.ini editor.  The input is "SECTION\0KEY\0VALUE\0TEXT":
 * the key is set in the section (and in the agent's common section) of
 * TEXT; whatever is accepted is applied again to the result, which must
 * then report no change (the edit is idempotent).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentcfg.h"
#include "fuzz.h"

FUZZ_DECLARE(agentcfg);

FUZZ_INIT(agentcfg)
{
	return 0;
}

FUZZ_ENTRY(agentcfg)
{
	const char		*sections[2];
	struct agentcfg_kv	 kv[2];
	struct cv_err		 err;
	const char		*f[3], *text;
	char			*buf, *out = NULL, *out2 = NULL, *p, *end;
	size_t			 n, outlen, out2len, tlen;
	int			 changed;

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	for (p = buf, n = 0; n < 3; n++) {
		if (p > end)
			goto out;
		f[n] = p;
		p += strlen(p) + 1;
	}
	text = p <= end ? p : end;
	tlen = (size_t)(end - text);
	sections[0] = f[0];
	sections[1] = AGENTCFG_COMMON_SECTION;
	kv[0].key = f[1];
	kv[0].value = f[2];
	kv[1].key = "UserCertificateFile";
	kv[1].value = "/etc/ssl/client.pem";
	/* One key twice with two values is the caller's contradiction. */
	if (strcasecmp(kv[0].key, kv[1].key) == 0)
		goto out;
	if (agentcfg_apply(text, tlen, sections, 2, kv, 2, &out, &outlen,
	    &changed, &err) == -1)
		goto out;
	if (agentcfg_apply(out, outlen, sections, 2, kv, 2, &out2, &out2len,
	    &changed, &err) == -1 || changed)
		abort();	/* what we wrote must read back unchanged */
out:
	free(out);
	free(out2);
	free(buf);
	return 0;
}
