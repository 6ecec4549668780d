/*
 * type = csr: the CSR goes to outbox (NAME-ID.csr) for someone else to
 * sign; the certificate for the pending key is looked for in inbox
 * (.cer, .crt, .pem, .p7b; files stay there) every 2 s, and
 * renewal_overdue is emitted once after alert_after (default 3d).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuer.h"
#include "xmalloc.h"

#define ISSUER_CSR_POLL_MS	2000	/* the inbox is small: cheap */

struct issuer_csr {
	char		*outbox;
	char		*inbox;
	int64_t		 alert_after;	/* seconds */
};

static void *
issuer_csr_new(void)
{
	struct issuer_csr	*c = xcalloc(1, sizeof(*c));

	c->alert_after = 3 * 86400;
	return c;
}

static void
issuer_csr_free(void *p)
{
	struct issuer_csr	*c = p;

	if (c == NULL)
		return;
	free(c->outbox);
	free(c->inbox);
	free(c);
}

static int
issuer_csr_key(struct issuer *is, const char *k, const char *v,
    struct cv_err *err)
{
	struct issuer_csr	*c = is->cfg;

	if (!strcmp(k, "outbox"))
		return binding_path(k, v, &c->outbox, err);
	if (!strcmp(k, "inbox"))
		return binding_path(k, v, &c->inbox, err);
	if (!strcmp(k, "alert_after"))
		return issuer_duration(k, v, &c->alert_after, err);
	return 1;
}

static int
issuer_csr_finish(struct issuer *is, struct cv_err *err)
{
	struct issuer_csr	*c = is->cfg;

	if (c->outbox == NULL || c->inbox == NULL)
		return cv_err_set(err, "[issuer %s] (csr) needs outbox and "
		    "inbox", is->name);
	return 0;
}

static void
issuer_csr_pending(const struct issuer_csr *c, struct issuer_reply *r,
    const char *detail)
{
	r->status = ISSUER_PENDING;
	r->retry_ms = ISSUER_CSR_POLL_MS;
	r->alert_after = c->alert_after;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
}

static int
issuer_csr_request(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	const struct issuer_csr	*c = job->is->cfg;
	char			*p;
	int			 rc;

	xasprintf(&p, "%s/%s-%lld.csr", c->outbox, job->b->name,
	    (long long)job->id);
	rc = issuer_write_request(job, p, err);
	free(p);
	if (rc == 0)
		issuer_csr_pending(c, r, "CSR in the outbox");
	return rc;
}

static int
issuer_csr_collect(const struct issuer_job *job, struct issuer_reply *r,
    struct cv_err *err)
{
	const struct issuer_csr	*c = job->is->cfg;
	char			 sha1[41], why[256];

	switch (issuer_collect_path(job, c->inbox, sha1, err)) {
	case 0:
		return issuer_ready(r, sha1);
	case 1:
		snprintf(why, sizeof(why), "no signed certificate in %s yet",
		    c->inbox);
		issuer_csr_pending(c, r, why);
		return 0;
	default:
		return -1;
	}
}

const struct issuer_type issuer_type_csr = {
	.name = "csr",
	.cfg_new = issuer_csr_new,
	.cfg_free = issuer_csr_free,
	.set_key = issuer_csr_key,
	.finish = issuer_csr_finish,
	.request = issuer_csr_request,
	.collect = issuer_csr_collect,
};
