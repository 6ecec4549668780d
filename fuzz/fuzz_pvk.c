/*
 * The PVK reader (issue 13 item 8): header, salt and key blob lengths
 * from the file, RC4 with the password "1234" when the flag says
 * encrypted.  A key that decodes is exported, as convert would.
 */
#include "config.h"

#include <stdlib.h>

#include <gnutls/gnutls.h>

#include "fuzz.h"
#include "pvk.h"

FUZZ_DECLARE(pvk);

FUZZ_INIT(pvk)
{
	gnutls_global_init();
	return 0;
}

FUZZ_ENTRY(pvk)
{
	gnutls_x509_privkey_t	 key;
	gnutls_datum_t		 der;
	struct cv_err		 err;

	if (pvk_decode(data, size, "1234", &key, &err) == 0) {
		if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_DER,
		    &der) >= 0)
			gnutls_free(der.data);
		gnutls_x509_privkey_deinit(key);
	}
	return 0;
}
