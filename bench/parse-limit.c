/*
 * parse-limit: the single-thread parse limit of a corpus (issue 16).
 *
 *   parse-limit [-f] DIR [PASSWORD_FILE]
 *
 * Does exactly what a scan's pool thread does for each file -- the
 * loader's work: fsutil_open (the symlink rule), fsutil_read_fd,
 * x509_load_mem with the watch's password (every inventory field and
 * both thumbprints), freeing the result -- in one plain loop, with no
 * daemon, queue or database around it.  The walk (readdir, sorted, as
 * the daemon's) is done first and not timed: the limit is the parse.
 * Prints NAME=VALUE lines for bench/run.sh: files, certs, errors, the
 * wall and CPU seconds of the loop and the files per second.
 *
 * -f adds the CPU per file by the loader's format, split by whether the
 * file also holds a private key (limit_fmt_pem_key_files=...,
 * limit_fmt_pem_key_cpu_us=...): which files a corpus's limit is made
 * of.  It reads the CPU clock around each file (two system calls), so
 * the totals are taken without it.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <getopt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "cverr.h"
#include "fsutil.h"
#include "x509.h"
#include "xmalloc.h"

struct pl_list {
	char	**v;
	size_t	  n, cap;
};

static void
pl_walk(struct pl_list *l, const char *dir)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		*path;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "password") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW)
		    == -1) {
			free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			pl_walk(l, path);
			free(path);
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 1024;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		l->v[l->n++] = path;
	}
	closedir(d);
}

static int
pl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -f: per format (enum x509_format), without and with a private key. */
#define PL_FMTS	8
static const char *const pl_fmt_names[PL_FMTS] = {
	"pem", "der", "pkcs12", "pvk", "pkcs7", "f5", "f6", "f7"
};

struct pl_fmt {
	size_t	files;
	double	cpu_s;
};

static double
pl_now(clockid_t clk)
{
	struct timespec	ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct x509_load_opts	 opts;
	struct pl_list		 l = { NULL, 0, 0 };
	struct x509_file	*f;
	struct cv_err		 err;
	struct stat		 sb;
	struct pl_fmt		 fmts[PL_FMTS][2];
	unsigned char		*data;
	char			*pw = NULL;
	size_t			 i, len, certs = 0, errors = 0;
	double			 w0, c0, w1, c1;
	double			 fc0 = 0;
	int			 fd, ch, byfmt = 0, k;
	unsigned		 fi;

	while ((ch = getopt(argc, argv, "f")) != -1) {
		if (ch != 'f')
			goto usage;
		byfmt = 1;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2 || argc > 3) {
usage:
		fprintf(stderr, "usage: parse-limit [-f] DIR [PASSWORD_FILE]\n");
		return 2;
	}
	memset(fmts, 0, sizeof(fmts));
	if (argc == 3 && fsutil_read_password(argv[2], &pw, &err) == -1) {
		fprintf(stderr, "parse-limit: %s\n", err.msg);
		return 1;
	}
	if (gnutls_global_init() < 0)
		return 1;
	pl_walk(&l, argv[1]);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), pl_cmp);
	memset(&opts, 0, sizeof(opts));
	opts.password = pw;
	w0 = pl_now(CLOCK_MONOTONIC);
	c0 = pl_now(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < l.n; i++) {
		f = NULL;
		data = NULL;
		len = 0;
		if (byfmt)
			fc0 = pl_now(CLOCK_PROCESS_CPUTIME_ID);
		if ((fd = fsutil_open(l.v[i], FSUTIL_PROTECTED, &sb,
		    &err)) == -1) {
			errors++;
			continue;
		}
		if (fsutil_read_fd(fd, &sb, FSUTIL_MAX_FILE, &data, &len,
		    &err) == -1 || x509_load_mem(l.v[i], data, len, &opts, &f,
		    &err) == -1)
			errors++;
		close(fd);
		if (f != NULL)
			certs += f->ncerts;
		if (byfmt && f != NULL) {
			fi = (unsigned)f->format < PL_FMTS ?
			    (unsigned)f->format : PL_FMTS - 1;
			k = f->nkeys > 0;
			fmts[fi][k].files++;
			/* The free is the loader's cost too. */
			x509_file_free(f);
			f = NULL;
			fmts[fi][k].cpu_s += pl_now(CLOCK_PROCESS_CPUTIME_ID) -
			    fc0;
		}
		x509_file_free(f);
		if (data != NULL) {
			explicit_bzero(data, len);
			free(data);
		}
	}
	w1 = pl_now(CLOCK_MONOTONIC);
	c1 = pl_now(CLOCK_PROCESS_CPUTIME_ID);
	printf("limit_files=%zu\nlimit_certs=%zu\nlimit_errors=%zu\n"
	    "limit_wall_s=%.3f\nlimit_cpu_s=%.3f\nlimit_rate=%.0f\n"
	    "limit_cpu_rate=%.0f\n", l.n, certs, errors, w1 - w0, c1 - c0,
	    w1 > w0 ? (double)l.n / (w1 - w0) : 0,
	    c1 > c0 ? (double)l.n / (c1 - c0) : 0);
	for (fi = 0; byfmt && fi < PL_FMTS; fi++) {
		for (k = 0; k < 2; k++) {
			if (fmts[fi][k].files == 0)
				continue;
			printf("limit_fmt_%s%s_files=%zu\n"
			    "limit_fmt_%s%s_cpu_us=%.1f\n", pl_fmt_names[fi],
			    k ? "_key" : "", fmts[fi][k].files,
			    pl_fmt_names[fi], k ? "_key" : "",
			    fmts[fi][k].cpu_s * 1e6 / (double)fmts[fi][k].files);
		}
	}
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(pw);
	return 0;
}
