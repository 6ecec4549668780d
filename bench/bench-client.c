/*
 * bench-client: times certvigild's control socket from one persistent
 * connection, so that no process start or connect is in the figures.
 *
 *   bench-client [-p PID] SOCKET status COUNT
 *	COUNT status requests one after the other; prints round-trip
 *	percentiles in microseconds (and the daemon's CPU per request when
 *	-p names its pid).
 *   bench-client [-p PID] [-r FD] [-i USEC] SOCKET status-until FILE MAX
 *	The same until FILE exists (looked for every 32 requests) or MAX
 *	requests: round trips over a period another process ends
 *	(bench/loop-stall.sh: while a scan runs).  With -r, "READY" is
 *	written to FD once the warm-up is done, so that the period starts
 *	after it: warm-up requests are not counted, and ones that overlap
 *	the period would hide its slowest replies.  With -i, USEC
 *	microseconds pass between requests (a monitoring client, not one
 *	that takes a core from the scan it measures; bench/run.sh).
 *   bench-client [-p PID] SOCKET list COUNT
 *	COUNT full list requests; prints the fastest and median time to
 *	the end of the reply, its size and the number of certificates.
 *   bench-client [-p PID] SOCKET change SRC DST SHA1 REQUEST [TIMEOUT_MS]
 *	Renames SRC over DST, then sends REQUEST (one JSON line, e.g. a
 *	show of DST) every millisecond until a reply contains SHA1; prints
 *	the delay and, with -p, the daemon's CPU over it.  The CPU that the
 *	polling itself costs is measured first (200 requests on the
 *	unchanged file) and reported separately.
 *   bench-client SOCKET request LINE
 *	Sends one line and prints the reply (a preflight for scripts).
 *
 * Output is NAME=VALUE lines for the shell (bench/run.sh evals them).
 * Exit 0, 1 on a failed or refused request, 2 on usage.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "xmalloc.h"

#define BC_MAX_REPLY	(512u * 1024 * 1024)
#define BC_BASELINE	200
#define BC_POLL_NS	1000000L

static const char bc_status_req[] = "{\"v\":1,\"cmd\":\"status\"}\n";
static const char bc_list_req[] = "{\"v\":1,\"cmd\":\"list\"}\n";

/* One connection and its receive buffer; bytes past a line are kept. */
struct bc_conn {
	int	 fd;
	char	*buf;
	size_t	 len;
	size_t	 size;
	size_t	 line;		/* length of the last line, '\n' included */
};

static int	bc_pid;
static int	bc_ready_fd = -1;	/* -r: told when the warm-up is done */
static unsigned	bc_interval_us;		/* -i: pause between status requests */

static void __attribute__((noreturn, format(printf, 1, 2)))
bc_fatal(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "bench-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static uint64_t
bc_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CPU time of every thread of the daemon in nanoseconds: the first field
 * of /proc/PID/task/TID/schedstat is exact, where /proc/PID/stat counts
 * clock ticks (10 ms here, the size of the thing measured).
 */
static uint64_t
bc_cpu_ns(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[64];
	FILE		*f;
	uint64_t	 sum = 0, v;

	if (bc_pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", bc_pid);
	if ((d = opendir(path)) == NULL)
		bc_fatal("%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
		    bc_pid, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* the thread has just gone */
		if (fscanf(f, "%" SCNu64, &v) == 1)
			sum += v;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static void
bc_connect(struct bc_conn *c, const char *path)
{
	struct sockaddr_un	sun;

	memset(c, 0, sizeof(*c));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		bc_fatal("%s: socket path too long", path);
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		bc_fatal("socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		bc_fatal("%s: %s", path, strerror(errno));
	c->size = 64 * 1024;
	c->buf = xmalloc(c->size);
}

static void
bc_send(struct bc_conn *c, const char *req, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(c->fd, req, len)) == -1) {
			if (errno == EINTR)
				continue;
			bc_fatal("write: %s", strerror(errno));
		}
		req += n;
		len -= n;
	}
}

/*
 * Reads until a whole line is buffered and returns it NUL-terminated
 * (without the '\n'); valid until the next bc_recv.
 */
static char *
bc_recv(struct bc_conn *c)
{
	char	*nl;
	size_t	 scanned = 0;
	ssize_t	 n;

	/* Drop the previous line. */
	if (c->line > 0) {
		memmove(c->buf, c->buf + c->line, c->len - c->line);
		c->len -= c->line;
		c->line = 0;
	}
	for (;;) {
		if ((nl = memchr(c->buf + scanned, '\n', c->len - scanned)) !=
		    NULL)
			break;
		scanned = c->len;
		if (c->len + 1 >= c->size) {
			if (c->size >= BC_MAX_REPLY)
				bc_fatal("reply longer than %u bytes",
				    BC_MAX_REPLY);
			c->size *= 2;
			c->buf = xrealloc(c->buf, c->size);
		}
		n = read(c->fd, c->buf + c->len, c->size - c->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			bc_fatal("read: %s", strerror(errno));
		if (n == 0)
			bc_fatal("the daemon closed the connection");
		c->len += n;
	}
	*nl = '\0';
	c->line = nl - c->buf + 1;
	return c->buf;
}

/* Checks a reply is {"ok":true,...}; the caller owns the result. */
static json_t *
bc_parse_ok(const char *line)
{
	json_t		*o;
	json_error_t	 e;

	if ((o = json_loads(line, 0, &e)) == NULL)
		bc_fatal("bad reply: %s", e.text);
	if (!json_is_true(json_object_get(o, "ok")))
		bc_fatal("refused: %.200s", line);
	return o;
}

static int
bc_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t
bc_pct(const uint64_t *v, size_t n, double p)
{
	size_t	i = (size_t)(p / 100.0 * n + 0.999999);

	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

static int
bc_status(struct bc_conn *c, unsigned count, const char *until)
{
	uint64_t	*t, t0, cpu0, cpu, sum = 0, warm, start;
	uint64_t	 max = 0, max_at = 0;
	unsigned	 i;
	json_t		*o;

	/* Warm up the daemon's and our caches; not counted. */
	warm = bc_now_ns();
	for (i = 0; i < 100; i++) {
		bc_send(c, bc_status_req, sizeof(bc_status_req) - 1);
		bc_recv(c);
	}
	json_decref(bc_parse_ok(c->buf));
	warm = bc_now_ns() - warm;
	if (bc_ready_fd >= 0) {
		if (write(bc_ready_fd, "READY\n", 6) != 6)
			bc_fatal("-r %d: %s", bc_ready_fd, strerror(errno));
		close(bc_ready_fd);
		bc_ready_fd = -1;
	}

	t = xcalloc(count, sizeof(*t));
	cpu0 = bc_cpu_ns();
	start = bc_now_ns();
	for (i = 0; i < count; i++) {
		if (until != NULL && i % 32 == 0 && i > 0 &&
		    access(until, F_OK) == 0)
			break;
		t0 = bc_now_ns();
		bc_send(c, bc_status_req, sizeof(bc_status_req) - 1);
		bc_recv(c);
		t[i] = bc_now_ns() - t0;
		sum += t[i];
		if (t[i] > max) {
			max = t[i];
			max_at = t0 - start;
		}
		if (bc_interval_us > 0)
			usleep(bc_interval_us);
	}
	count = i;
	cpu = bc_cpu_ns() - cpu0;
	o = bc_parse_ok(c->buf);
	json_decref(o);

	qsort(t, count, sizeof(*t), bc_cmp_u64);
	printf("status_n=%u\n", count);
	printf("status_warmup_ms=%.1f\n", warm / 1e6);
	printf("status_p50_us=%.1f\n", bc_pct(t, count, 50) / 1e3);
	printf("status_p99_us=%.1f\n", bc_pct(t, count, 99) / 1e3);
	printf("status_max_us=%.1f\n", t[count - 1] / 1e3);
	printf("status_mean_us=%.1f\n", sum / 1e3 / count);
	/* When the slowest one was sent, from the first: a stall's place. */
	printf("status_max_at_ms=%.1f\n", max_at / 1e6);
	if (bc_pid > 0)
		printf("status_cpu_us=%.1f\n", cpu / 1e3 / count);
	free(t);
	return 0;
}

static int
bc_list(struct bc_conn *c, unsigned count)
{
	uint64_t	*t, t0, cpu0, cpu;
	unsigned	 i;
	size_t		 bytes = 0, n = 0;
	json_t		*o, *r;

	t = xcalloc(count, sizeof(*t));
	cpu0 = bc_cpu_ns();
	for (i = 0; i < count; i++) {
		t0 = bc_now_ns();
		bc_send(c, bc_list_req, sizeof(bc_list_req) - 1);
		bc_recv(c);
		t[i] = bc_now_ns() - t0;
		bytes = c->line;
	}
	cpu = bc_cpu_ns() - cpu0;
	/* Parsed after the clock stops: the daemon's time is measured. */
	o = bc_parse_ok(c->buf);
	if (!json_is_array(r = json_object_get(o, "result")))
		bc_fatal("list: result is not an array");
	n = json_array_size(r);
	json_decref(o);

	qsort(t, count, sizeof(*t), bc_cmp_u64);
	printf("list_n=%u\n", count);
	printf("list_certs=%zu\n", n);
	printf("list_bytes=%zu\n", bytes);
	printf("list_min_ms=%.2f\n", t[0] / 1e6);
	printf("list_median_ms=%.2f\n", bc_pct(t, count, 50) / 1e6);
	printf("list_max_ms=%.2f\n", t[count - 1] / 1e6);
	if (bc_pid > 0)
		printf("list_cpu_ms=%.1f\n", cpu / 1e6 / count);
	free(t);
	return 0;
}

static int
bc_change(struct bc_conn *c, const char *src, const char *dst,
    const char *sha1, const char *req, unsigned timeout_ms)
{
	struct timespec	 ts = { 0, BC_POLL_NS };
	char		*line;
	uint64_t	 t0, t1, cpu0, cpu, base;
	unsigned	 i, polls = 0;
	size_t		 len;

	xasprintf(&line, "%s\n", req);
	len = strlen(line);

	/* What one poll costs the daemon, so it can be taken out. */
	cpu0 = bc_cpu_ns();
	for (i = 0; i < BC_BASELINE; i++) {
		bc_send(c, line, len);
		if (strstr(bc_recv(c), sha1) != NULL)
			bc_fatal("%s already shows %s", dst, sha1);
	}
	base = (bc_cpu_ns() - cpu0) / BC_BASELINE;

	cpu0 = bc_cpu_ns();
	t0 = bc_now_ns();
	if (rename(src, dst) == -1)
		bc_fatal("rename %s %s: %s", src, dst, strerror(errno));
	for (;;) {
		bc_send(c, line, len);
		polls++;
		if (strstr(bc_recv(c), sha1) != NULL)
			break;
		if (bc_now_ns() - t0 > (uint64_t)timeout_ms * 1000000u)
			bc_fatal("%s: %s not seen after %u ms", dst, sha1,
			    timeout_ms);
		nanosleep(&ts, NULL);
	}
	t1 = bc_now_ns();
	cpu = bc_cpu_ns() - cpu0;

	printf("change_ms=%.1f\n", (t1 - t0) / 1e6);
	printf("change_polls=%u\n", polls);
	if (bc_pid > 0) {
		printf("change_cpu_raw_ms=%.2f\n", cpu / 1e6);
		printf("change_poll_cpu_us=%.1f\n", base / 1e3);
		printf("change_cpu_ms=%.2f\n", cpu > polls * base ?
		    (cpu - polls * base) / 1e6 : 0.0);
	}
	free(line);
	return 0;
}

static void __attribute__((noreturn))
bc_usage(void)
{
	fprintf(stderr,
	    "usage: bench-client [-p PID] SOCKET status|list COUNT\n"
	    "       bench-client [-p PID] [-r FD] [-i USEC] SOCKET status-until FILE "
	    "MAX\n"
	    "       bench-client [-p PID] SOCKET change SRC DST SHA1 REQUEST "
	    "[TIMEOUT_MS]\n"
	    "       bench-client SOCKET request LINE\n");
	exit(2);
}

static unsigned
bc_number(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v == 0 ||
	    v > 100000000)
		bc_usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct bc_conn	 c;
	const char	*cmd;
	char		*line;
	int		 ch, rc = 2;

	while ((ch = getopt(argc, argv, "i:p:r:")) != -1) {
		switch (ch) {
		case 'i':
			bc_interval_us = bc_number(optarg);
			break;
		case 'p':
			bc_pid = bc_number(optarg);
			break;
		case 'r':
			bc_ready_fd = bc_number(optarg);
			break;
		default:
			bc_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		bc_usage();
	cmd = argv[1];

	bc_connect(&c, argv[0]);
	if (strcmp(cmd, "status") == 0 && argc == 3)
		rc = bc_status(&c, bc_number(argv[2]), NULL);
	else if (strcmp(cmd, "status-until") == 0 && argc == 4)
		rc = bc_status(&c, bc_number(argv[3]), argv[2]);
	else if (strcmp(cmd, "list") == 0 && argc == 3)
		rc = bc_list(&c, bc_number(argv[2]));
	else if (strcmp(cmd, "change") == 0 && (argc == 6 || argc == 7))
		rc = bc_change(&c, argv[2], argv[3], argv[4], argv[5],
		    argc == 7 ? bc_number(argv[6]) : 5000);
	else if (strcmp(cmd, "request") == 0 && argc == 3) {
		xasprintf(&line, "%s\n", argv[2]);
		bc_send(&c, line, strlen(line));
		free(line);
		printf("%s\n", bc_recv(&c));
		rc = 0;
	} else
		bc_usage();
	close(c.fd);
	free(c.buf);
	return rc;
}
