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
	    c->key_matches == 1 ? "yes, matches" : "yes, DOES NOT MATCH");
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
	struct x509_file	*f;
	struct cv_err		 err;
	const char		*pwfile = NULL;
	char			*password = NULL;
	json_t			*arr = NULL;
	time_t			 now = timeutil_now();
	size_t			 i;
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
	for (; argc > 0; argc--, argv++) {
		if (x509_load_file(argv[0], &opts, &f, &err) == -1) {
			cmd_err("%s: %s", argv[0], err.msg);
			rc = CMD_EXIT_FAIL;
		} else if (f->ncerts == 0) {
			cmd_err("%s: no certificate found (the file holds "
			    "%zu private key%s only)", argv[0], f->nkeys,
			    f->nkeys == 1 ? "" : "s");
			rc = CMD_EXIT_FAIL;
		}
		if (f == NULL)
			continue;
		for (i = 0; i < f->ncerts; i++) {
			if (json) {
				json_array_append_new(arr, x509_cert_json(
				    &f->certs[i], f->path, f->format));
				continue;
			}
			if (!first)
				printf("\n");
			first = 0;
			inspect_print_text(f, &f->certs[i], now);
		}
		x509_file_free(f);
	}
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
	"show every certificate and key in files (PEM, DER, PKCS#12)",
	"Offline: the files are read here, without the daemon.",
	inspect_opts, cmd_inspect
};
