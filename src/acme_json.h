/*
 * Parsers for ACME server replies (issue 17; RFC 8555, RFC 9773 for
 * renewalInfo, RFC 7807 problem documents).  Every member is type-checked
 * and size-capped: a reply that breaks a rule is refused whole with a
 * one-line reason naming the member, never half-read.  Unknown members are
 * ignored (servers add their own).  Pure: safe on any thread; the ACME
 * issuer calls them from pool jobs right after http_do().
 */
#ifndef CV_ACME_JSON_H
#define CV_ACME_JSON_H

#include <stddef.h>
#include <time.h>

#include "cverr.h"

#define ACME_JSON_MAX		(256 * 1024)	/* bytes of one reply */
#define ACME_STR_MAX		4096	/* one URL, token, status... */
#define ACME_DETAIL_MAX		1024	/* a problem's detail */
#define ACME_LIST_MAX		100	/* identifiers, authorizations... */
#define ACME_PROBLEM_LINE_MAX	480	/* fits a cv_err message */

struct acme_directory {
	char	*new_nonce, *new_account, *new_order;	/* required */
	char	*revoke_cert, *key_change, *renewal_info;	/* NULL: none */
	char	*terms_of_service;
	int	 eab_required;		/* meta.externalAccountRequired */
	char	**profiles;		/* meta.profiles names, NULL-ended */
	size_t	 nprofiles;
};

struct acme_identifier {
	char	*type, *value;
};

/* A problem document as one line: "TYPE: detail" then each subproblem
 * "; TYPE (IDENTIFIER): detail"; control characters become '?'. */
struct acme_problem {
	char	*type;			/* NULL when the member is missing */
	char	*line;
};

struct acme_order {
	char			*status;	/* required */
	time_t			 expires;	/* 0: none given */
	struct acme_identifier	*ids;
	size_t			 nids;
	char			**authzs;	/* authorization URLs */
	size_t			 nauthzs;
	char			*finalize;	/* required */
	char			*certificate, *profile, *replaces;
	char			*error;		/* problem line, or NULL */
};

struct acme_challenge {
	char	*type, *url, *status;		/* required */
	char	*token;				/* NULL for unknown types */
	char	*error;				/* problem line, or NULL */
};

struct acme_authz {
	char			*status;	/* required */
	struct acme_identifier	 id;
	int			 wildcard;
	struct acme_challenge	*challenges;
	size_t			 nchallenges;
};

struct acme_renewal_info {
	time_t	 start, end;		/* suggestedWindow, start < end */
	char	*explanation_url;	/* NULL: none */
};

int	acme_directory_parse(const char *, size_t, struct acme_directory *,
	    struct cv_err *);
void	acme_directory_free(struct acme_directory *);
int	acme_order_parse(const char *, size_t, struct acme_order *,
	    struct cv_err *);
void	acme_order_free(struct acme_order *);
int	acme_authz_parse(const char *, size_t, struct acme_authz *,
	    struct cv_err *);
void	acme_authz_free(struct acme_authz *);
int	acme_problem_parse(const char *, size_t, struct acme_problem *,
	    struct cv_err *);
void	acme_problem_free(struct acme_problem *);
int	acme_renewal_info_parse(const char *, size_t,
	    struct acme_renewal_info *, struct cv_err *);
void	acme_renewal_info_free(struct acme_renewal_info *);

#endif
