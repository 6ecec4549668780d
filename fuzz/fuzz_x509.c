/*
 * The loader: PEM bundle splitter, DER, PKCS#12 (MAC and decryption with
 * password "1234"), PKCS#7 and keys, through x509_load_mem(); every
 * record it returns is turned into JSON as inspect does.
 */
#include "config.h"

#include <stdlib.h>

#include <gnutls/gnutls.h>

#include "fuzz.h"
#include "x509.h"

FUZZ_DECLARE(x509);

FUZZ_INIT(x509)
{
	gnutls_global_init();
	return 0;
}

FUZZ_ENTRY(x509)
{
	struct x509_load_opts	 opts = { "1234", 0, 0 };
	struct x509_file	*f = NULL;
	struct cv_err		 err;
	json_t			*j;
	size_t			 i;

	/* Keep a hostile iteration count from eating the time budget. */
	opts.max_iter = 100000;
	opts.max_total_iter = 400000;
	x509_load_mem("fuzz", data, size, &opts, &f, &err);
	if (f != NULL) {
		for (i = 0; i < f->ncerts; i++) {
			j = x509_cert_json(&f->certs[i], f->path, f->format);
			json_decref(j);
		}
		x509_file_free(f);
	}
	return 0;
}
