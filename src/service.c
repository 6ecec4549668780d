#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service.h"
#include "xmalloc.h"

extern char **environ;

struct service {
	uv_process_t	 proc;		/* first: closes last */
	uv_timer_t	 timer;
	int		 closing;
	int		 status;
	int		 timed_out;
	int64_t		 timeout_s;
	char		*log_path;
	service_cb	 cb;
	void		*arg;
};

static void
service_closed(uv_handle_t *h)
{
	struct service	*s = h->data;

	if (--s->closing > 0)
		return;
	free(s->log_path);
	free(s);
}

/* The last bytes of the log, one line, for the journal. */
static void
service_tail(const char *path, char *out, size_t len)
{
	char	buf[SERVICE_OUTPUT_MAX + 1];
	off_t	end;
	ssize_t	n;
	int	fd, i;

	out[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > SERVICE_OUTPUT_MAX)
		lseek(fd, end - SERVICE_OUTPUT_MAX, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, SERVICE_OUTPUT_MAX);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	snprintf(out, len, "%s", buf);
}

static void
service_exit(uv_process_t *p, int64_t status, int signo)
{
	struct service	*s = p->data;
	char		 out[SERVICE_OUTPUT_MAX + 1], detail[SERVICE_OUTPUT_MAX + 64];
	int		 st;

	uv_timer_stop(&s->timer);
	if (s->timed_out) {
		st = -1;
		snprintf(detail, sizeof(detail), "killed after %llds",
		    (long long)s->timeout_s);
	} else if (signo != 0) {
		st = -1;
		snprintf(detail, sizeof(detail), "killed by signal %d", signo);
	} else {
		st = (int)status;
		snprintf(detail, sizeof(detail), "exit %d", st);
	}
	service_tail(s->log_path, out, sizeof(out));
	if (*out != '\0') {
		size_t	l = strlen(detail);

		snprintf(detail + l, sizeof(detail) - l, ": %s", out);
	}
	s->closing = 2;
	uv_close((uv_handle_t *)&s->timer, service_closed);
	uv_close((uv_handle_t *)&s->proc, service_closed);
	s->cb(s->arg, st, detail);
}

static void
service_timeout(uv_timer_t *t)
{
	struct service	*s = t->data;

	s->timed_out = 1;
	/* The whole session: what the command started goes too. */
	if (uv_kill(-s->proc.pid, SIGKILL) != 0)
		uv_process_kill(&s->proc, SIGKILL);
}

int
service_run(uv_loop_t *loop, char *const *argv, char *const *env,
    int64_t timeout_s, const char *log_path, service_cb cb, void *arg,
    struct service **out, char *err, size_t errlen)
{
	uv_process_options_t	 o;
	uv_stdio_container_t	 io[3];
	struct service		*s;
	char			**envp = NULL;
	size_t			 n = 0, k = 0, i;
	int			 fd, rc;

	if ((fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
		return -1;
	}
	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[k] != NULL)
		k++;
	envp = xcalloc(n + k + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	for (i = 0; i < k; i++)
		envp[n + i] = env[i];
	s = xcalloc(1, sizeof(*s));
	s->cb = cb;
	s->arg = arg;
	s->timeout_s = timeout_s;
	s->log_path = xstrdup(log_path);
	memset(&o, 0, sizeof(o));
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = fd;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = fd;
	o.file = argv[0];
	o.args = (char **)argv;
	o.env = envp;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = service_exit;
	o.flags = UV_PROCESS_DETACHED;
	s->proc.data = s;
	rc = uv_spawn(loop, &s->proc, &o);
	close(fd);
	free(envp);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", argv[0], uv_strerror(rc));
		/* A failed spawn still needs its handle closed. */
		s->closing = 1;
		uv_close((uv_handle_t *)&s->proc, service_closed);
		return -1;
	}
	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, service_timeout, (uint64_t)timeout_s * 1000,
	    0);
	if (out != NULL)
		*out = s;
	return 0;
}
