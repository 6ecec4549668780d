/*
 * type = exec: a command (no shell) signs the CSR.  Its environment:
 * CERTVIGIL_CSR (WORK/ID.csr), CERTVIGIL_CERT_OUT (WORK/ID.crt: where to
 * leave the certificate), CERTVIGIL_BINDING, CERTVIGIL_ENDPOINT,
 * CERTVIGIL_PURPOSE.  The engine runs it (killed after timeout, default
 * 10m) and collects once: no certificate for the key there is an error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "issuer.h"
#include "xmalloc.h"

struct issuer_exec {
	char		**command;	/* argv, NULL-ended */
	int64_t		  timeout;	/* seconds */
};

static void *
issuer_exec_new(void)
{
	struct issuer_exec	*c = xcalloc(1, sizeof(*c));

	c->timeout = 600;
	return c;
}

static void
issuer_exec_free(void *p)
{
	struct issuer_exec	*c = p;

	if (c == NULL)
		return;
	argv_free(c->command);
	free(c);
}

static int
issuer_exec_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	struct issuer_exec	*c = is->cfg;

	if (!strcmp(k, "timeout"))
		return issuer_duration(k, v, &c->timeout, err);
	if (strcmp(k, "command") != 0)
		return 1;
	argv_free(c->command);
	c->command = NULL;
	if (argv_split(v, &c->command, NULL, err) == -1) {
		cv_err_prefix(err, "command");
		return -1;
	}
	return 0;
}

static int
issuer_exec_finish(struct issuer *is, struct cv_err *err)
{
	struct issuer_exec	*c = is->cfg;

	if (c->command == NULL)
		return cv_err_set(err, "[issuer %s] (exec) needs command",
		    is->name);
	return 0;
}

static char *
issuer_exec_path(const struct issuer_job *job, const char *ext)
{
	char	*p;

	xasprintf(&p, "%s/%lld.%s", job->work_dir, (long long)job->id, ext);
	return p;
}

/* The pending key and its CSR in the work directory; the reply asks the
 * engine to run the command. */
static int
issuer_exec_request(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	const struct issuer_exec *c = job->is->cfg;
	char			*csr = issuer_exec_path(job, "csr");
	char			*out = issuer_exec_path(job, "crt");
	size_t			 i;
	int			 rc = -1;

	if (issuer_write_request(job, csr, err) == -1)
		goto out;
	/* What a previous run left is not this run's answer. */
	unlink(out);
	for (i = 0; c->command[i] != NULL; i++)
		;
	r->argv = xcalloc(i + 1, sizeof(char *));
	for (i = 0; c->command[i] != NULL; i++)
		r->argv[i] = xstrdup(c->command[i]);
	r->env = xcalloc(6, sizeof(char *));
	xasprintf(&r->env[0], "CERTVIGIL_CSR=%s", csr);
	xasprintf(&r->env[1], "CERTVIGIL_CERT_OUT=%s", out);
	xasprintf(&r->env[2], "CERTVIGIL_BINDING=%s", job->b->name);
	xasprintf(&r->env[3], "CERTVIGIL_ENDPOINT=%s",
	    binding_endpoint(job->b));
	xasprintf(&r->env[4], "CERTVIGIL_PURPOSE=%s", job->b->is_client ?
	    "client" : "server");
	r->timeout = c->timeout;
	r->status = ISSUER_RUN;
	rc = 0;
out:
	free(csr);
	free(out);
	return rc;
}

static int
issuer_exec_collect(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	char	*out = issuer_exec_path(job, "crt"), sha1[41];
	int	 rc;

	rc = issuer_collect_path(job, out, sha1, err);
	free(out);
	if (rc == 1)
		return cv_err_set(err, "the exec issuer left no certificate "
		    "for the key at CERTVIGIL_CERT_OUT");
	return rc == 0 ? issuer_ready(r, sha1) : -1;
}

const struct issuer_type issuer_type_exec = {
	.name = "exec",
	.cfg_new = issuer_exec_new,
	.cfg_free = issuer_exec_free,
	.set_key = issuer_exec_key,
	.finish = issuer_exec_finish,
	.request = issuer_exec_request,
	.collect = issuer_exec_collect,
};
