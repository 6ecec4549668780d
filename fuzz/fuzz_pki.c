/*
 * The CSR subject and SAN builder.  The input is split at NUL bytes into
 * CN, O, OU, L, ST, C and a --san list; the subject is checked and
 * printed, the SANs parsed and printed, and when both are accepted a CSR
 * is built and signed with a key made once (Ed25519: cheap to sign).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "fuzz.h"
#include "pki.h"

FUZZ_DECLARE(pki);

static gnutls_x509_privkey_t	fuzz_pki_key;

FUZZ_INIT(pki)
{
	struct cv_err	err;

	gnutls_global_init();
	if (pki_key_generate(PKI_KEY_ED25519, 0, &fuzz_pki_key, &err) == -1)
		abort();
	return 0;
}

FUZZ_ENTRY(pki)
{
	struct pki_subject	 s;
	struct pki_san_list	 l;
	struct cv_err		 err;
	gnutls_x509_crq_t	 crq;
	gnutls_datum_t		 pem;
	const char		*f[7];
	char			*buf, *p, *end, *str;
	size_t			 i, n;
	int			 ok;

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(f, 0, sizeof(f));
	end = buf + size;
	for (p = buf, n = 0; n < 7 && p <= end; n++) {
		f[n] = p;
		p += strlen(p) + 1;
	}
	memset(&s, 0, sizeof(s));
	/* An empty field stands for an option not given. */
	s.cn = f[0] && *f[0] ? f[0] : NULL;
	s.o = f[1] && *f[1] ? f[1] : NULL;
	s.ou = f[2] && *f[2] ? f[2] : NULL;
	s.l = f[3] && *f[3] ? f[3] : NULL;
	s.st = f[4] && *f[4] ? f[4] : NULL;
	s.c = f[5] && *f[5] ? f[5] : NULL;
	ok = pki_subject_check(&s, &err) == 0;
	free(pki_subject_dn(&s));
	memset(&l, 0, sizeof(l));
	if (f[6] != NULL && pki_san_parse(f[6], &l, &err) == -1)
		ok = 0;
	for (i = 0; i < l.n; i++) {
		str = pki_san_str(&l.v[i]);
		free(str);
	}
	if (ok && fuzz_pki_key != NULL &&
	    pki_csr_make(&s, &l, fuzz_pki_key, &crq, &err) == 0) {
		if (pki_csr_pem(crq, &pem, &err) == 0)
			gnutls_free(pem.data);
		gnutls_x509_crq_deinit(crq);
	}
	pki_san_list_free(&l);
	free(buf);
	return 0;
}
