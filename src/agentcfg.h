/*
 * A small line-based editor for an inventory agent's config.ini (the
 * pseudo-registry of UNIX agents): sets keys in sections and keeps every
 * other byte of the file as it was.
 */
#ifndef CV_AGENTCFG_H
#define CV_AGENTCFG_H

#include <stddef.h>

#include "cverr.h"

/* The agent's default section for settings common to all components. */
#define AGENTCFG_COMMON_SECTION	"ManageSoft\\Common"

struct agentcfg_kv {
	const char	*key;
	const char	*value;
};

/*
 * Sets each key in each section of the text in (len bytes).  Lines that
 * are not one of those keys in one of those sections are copied byte for
 * byte.  A key present in the section has its value replaced in place
 * (every occurrence, keeping the spelling of the key and the blanks
 * around "="); a missing key is added after the last key line of the
 * section; a missing section is added at the end.  Section and key names
 * compare case-insensitively, as the registry does.  New lines use the
 * file's line ending (CRLF if its first line has one).
 *
 * *out (NUL-terminated, caller frees) is the new text and *outlen its
 * length; *changed says whether it differs from the input.
 */
int	agentcfg_apply(const char *in, size_t len, const char *const *sections,
	    size_t nsections, const struct agentcfg_kv *, size_t nkv,
	    char **out, size_t *outlen, int *changed, struct cv_err *);

/*
 * agentcfg_apply() on a file, which must exist.  Written atomically with
 * its mode and owner kept, and only when something changed, in the
 * directory opened once.  A symlink or a hard link at path is refused
 * (root would edit whatever it points to), as is anything but a regular
 * file.
 */
int	agentcfg_update_file(const char *path, const char *const *sections,
	    size_t nsections, const struct agentcfg_kv *, size_t nkv,
	    int *changed, struct cv_err *);

/*
 * The agent's client-certificate preferences (AddClientCertificateAndKey,
 * SSLClientCertificateFile, SSLClientPrivateKeyFile) set in the file at
 * path, in the given sections or, with nsections 0, in the common
 * section.  cert and key are written as given: the agent reads them from
 * its own working directory, so callers pass absolute paths.  The one
 * writer of these keys (deploy-client and the renewal engine).
 */
int	agentcfg_set_client_cert(const char *path,
	    const char *const *sections, size_t nsections, const char *cert,
	    const char *key, int *changed, struct cv_err *);

#endif
