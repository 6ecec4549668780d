/* certvigil inspect: the loader's view of files, offline. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "fsutil.h"
#include "timeutil.h"
#include "x509.h"
#include "xmalloc.h"

static void
inspect_print_list(const char *label, char **v, size_t n, size_t dropped)
{
	size_t	i;

	printf("  %-13s", label);
	if (n == 0)
		printf("(none)");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", cmd_safe(v[i]));
	if (dropped)
		printf(" (and %zu more)", dropped);
	printf("\n");
}

static void
inspect_print_text(const struct x509_file *f, const struct x509_cert *c,
    time_t now)
{
	char	 up[41], tb[TIMEUTIL_RFC3339_LEN], dur[64], ku[256];
	int64_t	 left = (int64_t)c->not_after - (int64_t)now;
	size_t	 i;

	printf("%s [%s #%u]\n", cmd_safe(f->path), x509_format_name(f->format),
	    c->index);
	printf("  %-13s%s\n", "Subject:", cmd_safe(c->subject));
	printf("  %-13s%s\n", "Issuer:", cmd_safe(c->issuer));
	printf("  %-13s%s\n", "Serial:", cmd_safe(c->serial));
	printf("  %-13s%s\n", "Not before:",
	    timeutil_rfc3339(c->not_before, tb, sizeof(tb)));
	timeutil_rfc3339(c->not_after, tb, sizeof(tb));
	if (now < c->not_before)
		printf("  %-13s%s (not yet valid)\n", "Not after:", tb);
	else if (left < 0)
		printf("  %-13s%s (EXPIRED %s ago)\n", "Not after:", tb,
		    timeutil_fmt_duration(-left, dur, sizeof(dur)));
	else
		printf("  %-13s%s (%s left)\n", "Not after:", tb,
		    timeutil_fmt_duration(left, dur, sizeof(dur)));
	printf("  %-13s%s\n", "Thumbprint:", x509_sha1_upper(c->sha1, up));
	printf("  %-13s%s\n", "certhash:", c->sha1);
	printf("  %-13s%s\n", "SHA-256:", c->sha256);
	printf("  %-13s%s %u\n", "Key:", c->key_type, c->key_bits);
	printf("  %-13s%s\n", "Signature:", c->sig_alg);
	inspect_print_list("SAN:", c->san, c->nsan, c->nsan_dropped);
	inspect_print_list("EKU:", c->eku, c->neku, 0);
	printf("  %-13s%s\n", "Key usage:", c->key_usage ?
	    x509_key_usage_str(c->key_usage, ku, sizeof(ku)) : "(none)");
	printf("  %-13s%s\n", "CA:", c->is_ca ? "yes" : "no");
	printf("  %-13s%s\n", "Private key:", !c->has_private_key ? "no" :
	    c->key_matches == 1 ? "yes, matches" : c->key_matches < 0 ?
	    "yes, match unknown (DSA parameters inherited)" :
	    "yes, DOES NOT MATCH");
	/* The parse-quality note: what was odd (a lenient read, ...). */
	for (i = 0; i < c->nwarn; i++)
		printf("  %-13s%s\n", i == 0 ? "Warnings:" : "",
		    cmd_safe(c->warn[i]));
}

static void
inspect_print_crl(const struct x509_file *f, const struct crl_info *c,
    time_t now)
{
	char	 tb[TIMEUTIL_RFC3339_LEN], dur[64];
	int64_t	 left = (int64_t)c->next_update - (int64_t)now;

	printf("%s [%s CRL #%u]\n", cmd_safe(f->path),
	    x509_format_name(f->format), c->index);
	printf("  %-13s%s\n", "Issuer:", cmd_safe(c->issuer));
	printf("  %-13s%s\n", "This update:",
	    timeutil_rfc3339(c->this_update, tb, sizeof(tb)));
	if (c->next_update == (time_t)-1)
		printf("  %-13s(none)\n", "Next update:");
	else if (left < 0)
		printf("  %-13s%s (STALE %s ago)\n", "Next update:",
		    timeutil_rfc3339(c->next_update, tb, sizeof(tb)),
		    timeutil_fmt_duration(-left, dur, sizeof(dur)));
	else
		printf("  %-13s%s (%s left)\n", "Next update:",
		    timeutil_rfc3339(c->next_update, tb, sizeof(tb)),
		    timeutil_fmt_duration(left, dur, sizeof(dur)));
	printf("  %-13s%lu\n", "Revoked:", c->revoked);
	printf("  %-13s%s\n", "CRL number:", c->number[0] ? c->number :
	    "(none)");
	printf("  %-13s%s\n", "Signature:", c->sig_alg);
	printf("  %-13s%s\n", "SHA-1:", c->sha1);
}

/*
 * A key of a file without certificates (a .key, a .pvk): its type and
 * which of the certificates given on the same command line it matches.
 */
static json_t *
inspect_key(struct x509_file **v, size_t nv, const struct x509_file *f,
    size_t k, int json)
{
	const struct x509_key	*key = &f->keys[k];
	json_t			*j = NULL, *m = json_array();
	size_t			 i, c, ncerts = 0;

	for (i = 0; i < nv; i++) {
		for (c = 0; v[i] != NULL && c < v[i]->ncerts; c++) {
			ncerts++;
			if (memcmp(v[i]->certs[c].key_id, key->id, 32) == 0)
				json_array_append_new(m, json_pack("{s:s, "
				    "s:I, s:s}", "path", v[i]->path, "index",
				    (json_int_t)c, "sha1",
				    v[i]->certs[c].sha1));
		}
	}
	if (json) {
		j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:o}", "kind",
		    "private_key", "path", f->path, "index", (json_int_t)k,
		    "format", x509_format_name(f->format), "key_type",
		    key->type, "key_bits", (json_int_t)key->bits, "matches",
		    ncerts ? json_incref(m) : json_null());
		json_decref(m);
		return j;
	}
	printf("%s [%s private key #%zu]\n", cmd_safe(f->path),
	    x509_format_name(f->format), k);
	printf("  %-13s%s %u\n", "Key:", key->type, key->bits);
	printf("  %-13s", "Matches:");
	if (ncerts == 0)
		printf("(no certificate given)\n");
	else if (json_array_size(m) == 0)
		printf("NONE of the certificates given\n");
	for (i = 0; i < json_array_size(m); i++)
		printf("%s%s #%lld\n", i ? "               " : "",
		    cmd_safe(json_string_value(json_object_get(
		    json_array_get(m, i), "path"))),
		    (long long)json_integer_value(json_object_get(
		    json_array_get(m, i), "index")));
	json_decref(m);
	return NULL;
}

/* Everything one file holds, as text or appended to arr. */
static void
inspect_file(struct x509_file **v, size_t nv, const struct x509_file *f,
    json_t *arr, int *first, time_t now)
{
	size_t	i;

	for (i = 0; i < f->ncerts + f->ncrls; i++) {
		if (arr != NULL) {
			json_array_append_new(arr, i < f->ncerts ?
			    x509_cert_json(&f->certs[i], f->path, f->format) :
			    crl_json(&f->crls[i - f->ncerts], f->path,
			    x509_format_name(f->format)));
			continue;
		}
		if (!*first)
			printf("\n");
		*first = 0;
		if (i < f->ncerts)
			inspect_print_text(f, &f->certs[i], now);
		else
			inspect_print_crl(f, &f->crls[i - f->ncerts], now);
	}
	for (i = 0; f->ncerts == 0 && i < f->nkeys; i++) {
		if (arr != NULL) {
			json_array_append_new(arr, inspect_key(v, nv, f, i, 1));
			continue;
		}
		if (!*first)
			printf("\n");
		*first = 0;
		inspect_key(v, nv, f, i, 0);
	}
}

static const struct cmdopt inspect_opts[] = {
	{ "json",		'j', NULL, "print the certificates as JSON" },
	{ "password-file",	'p', "FILE|-", "the PKCS#12 or key password "
	    "(- reads standard input)" },
	CMDOPT_END
};

static int
cmd_inspect(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct x509_load_opts	 opts;
	struct x509_file	**files;
	struct cv_err		 err;
	const char		*pwfile = NULL;
	char			*password = NULL;
	json_t			*arr = NULL;
	time_t			 now = timeutil_now();
	size_t			 i, n;
	int			 ch, json = 0, rc = CMD_EXIT_OK, first = 1;

	while ((ch = cmdopt_next(ctx, NULL, argc, argv)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			pwfile = optarg;
			break;
		default:	/* CMDOPT_STOP */
			return ctx->opt.exit;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return cmd_usage(ctx->cmd);
	memset(&opts, 0, sizeof(opts));
	if (pwfile != NULL) {
		if (fsutil_read_password_arg(pwfile, &password, &err) == -1) {
			cmd_err("%s", err.msg);
			return CMD_EXIT_USAGE;
		}
		opts.password = password;
	}
	if (json)
		arr = json_array();
	/* All files first: a key is matched against every certificate. */
	files = xcalloc((size_t)argc, sizeof(*files));
	for (n = 0; n < (size_t)argc; n++) {
		if (x509_load_file(argv[n], &opts, &files[n], &err) == -1) {
			cmd_err("%s: %s", argv[n], err.msg);
			rc = CMD_EXIT_FAIL;
		} else if (files[n]->ncerts == 0 && files[n]->ncrls == 0 &&
		    files[n]->format != X509_FMT_PVK) {
			cmd_err("%s: no certificate found (the file holds "
			    "%zu private key%s only)", argv[n],
			    files[n]->nkeys, files[n]->nkeys == 1 ? "" : "s");
			rc = CMD_EXIT_FAIL;
		}
	}
	for (i = 0; i < n; i++)
		if (files[i] != NULL)
			inspect_file(files, n, files[i], arr, &first, now);
	for (i = 0; i < n; i++)
		x509_file_free(files[i]);
	free(files);
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(arr);
	}
	freezero_str(password);
	return rc;
}

const struct cmd_entry cmd_inspect_entry = {
	"inspect", NULL, "[--json] [--password-file FILE|-] FILE...",
	"show every certificate, CRL and key in files (PEM, DER, PKCS#12, "
	"PVK)",
	"Offline: the files are read here, without the daemon.",
	inspect_opts, cmd_inspect
};
