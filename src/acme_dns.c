/*
 * dns-01 (issue 17); see acme_dns.h.  The hook is spawned with
 * posix_spawn (no shell, descriptors above 2 closed) and waited for
 * through a pidfd, so the timeout needs no sleeping loop and no signal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "acme_dns.h"
#include "jws.h"
#include "xmalloc.h"

extern char	**environ;

char *
acme_dns_txt_value(gnutls_pubkey_t pub, const char *token,
    struct cv_err *err)
{
	unsigned char	 md[32];
	char		*thumb = NULL, *ka, *v = NULL;

	if (jws_thumbprint(pub, &thumb, err) == -1)
		return NULL;
	xasprintf(&ka, "%s.%s", token, thumb);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, ka, strlen(ka), md) < 0)
		cv_err_set(err, "dns-01: SHA-256 failed");
	else
		v = jws_b64url(md, sizeof(md));
	free(ka);
	free(thumb);
	return v;
}

/* environ plus the hook's four variables (the strings are owned by
 * the caller's array vars). */
static char **
acme_dns_env(char **vars, size_t nvars)
{
	char	**envp;
	size_t	  n = 0, i;

	while (environ[n] != NULL)
		n++;
	envp = xcalloc(n + nvars + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	for (i = 0; i < nvars; i++)
		envp[n + i] = vars[i];
	return envp;
}

/* Waits for pid at most timeout_s; killed (and reaped) after it. */
static int
acme_dns_wait(pid_t pid, int timeout_s, int *status)
{
	struct pollfd	pfd;
	int		fd, rc = 0;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd != -1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		while ((rc = poll(&pfd, 1, timeout_s * 1000)) == -1 &&
		    errno == EINTR)
			;
		close(fd);
		if (rc == 0)
			(void)kill(pid, SIGKILL);
	}
	/* Without pidfd (old kernels): the timeout is not enforced. */
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return rc == 0 && fd != -1 ? 1 : 0;
}

int
acme_dns_hook(char *const *argv, const char *action, const char *domain,
    const char *value, const char *log_path, int timeout_s,
    struct cv_err *err)
{
	posix_spawn_file_actions_t	 fa;
	char				*vars[4], **envp;
	pid_t				 pid;
	int				 fd, st = 0, rc = -1, e, w;
	size_t				 i;

	if ((fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		return cv_err_set(err, "%s: %s", log_path, strerror(errno));
	xasprintf(&vars[0], "CERTVIGIL_ACME_ACTION=%s", action);
	xasprintf(&vars[1], "CERTVIGIL_ACME_DOMAIN=%s", domain);
	xasprintf(&vars[2], "CERTVIGIL_ACME_TXT_NAME=_acme-challenge.%s",
	    domain);
	xasprintf(&vars[3], "CERTVIGIL_ACME_TXT_VALUE=%s", value);
	envp = acme_dns_env(vars, 4);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	e = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (e != 0) {
		cv_err_set(err, "dns_hook %s %s: %s: %s", action, domain,
		    argv[0], strerror(e));
		goto out;
	}
	if ((w = acme_dns_wait(pid, timeout_s, &st)) == -1)
		cv_err_set(err, "dns_hook %s %s: wait: %s", action, domain,
		    strerror(errno));
	else if (w == 1)
		cv_err_set(err, "dns_hook %s %s: killed after %d s (output "
		    "in %s)", action, domain, timeout_s, log_path);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cv_err_set(err, "dns_hook %s %s: %s %d (output in %s)",
		    action, domain, WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log_path);
	else
		rc = 0;
out:
	free(envp);
	for (i = 0; i < 4; i++)
		free(vars[i]);
	return rc;
}
