/*
 * src/http.c against real HTTPS servers (issue 17): openssl s_server -HTTP
 * serves files that hold a whole reply (status line, headers, body), and
 * s_server -WWW streams /dev/zero as an endless hostile body.  Checks the
 * headers an ACME client needs, the body cap, redirects not followed, the
 * trust anchors, the URL policy and Retry-After.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "http.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/check_http.XXXXXX";
static pid_t	srv_pid[2];
static int	srv_port[2];	/* [0] -HTTP, [1] -WWW */
static char	url[256];

static const char *
at(const char *name)
{
	static char	path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static const char *
u(int srv, const char *path)
{
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/%s", srv_port[srv],
	    path);
	return url;
}

static void
put(const char *name, const char *head, size_t fill)
{
	FILE	*f;
	size_t	 i;

	ck_assert_ptr_nonnull(f = fopen(at(name), "w"));
	fputs(head, f);
	for (i = 0; i < fill; i++)
		fputc('x', f);
	ck_assert_int_eq(fclose(f), 0);
}

static int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Starts s_server MODE in dir and waits (60 s at most) for its ACCEPT. */
static int
server_try(int i, const char *mode)
{
	char		 accept[64], buf[4096];
	int		 p[2], port, got = 0;
	size_t		 have = 0;
	ssize_t		 n;
	struct pollfd	 pfd;

	port = free_port();
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
	ck_assert_int_eq(pipe(p), 0);
	if ((srv_pid[i] = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		if (chdir(dir) == -1)
			_exit(127);
		execlp("openssl", "openssl", "s_server", "-accept",
		    accept, "-cert", "cert.pem", "-key", "key.pem", mode,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (!got && have < sizeof(buf) - 1 && poll(&pfd, 1, 60000) == 1 &&
	    (n = read(p[0], buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		got = strstr(buf, "ACCEPT") != NULL;
	}
	close(p[0]);
	if (got) {
		srv_port[i] = port;
		return 0;
	}
	kill(srv_pid[i], SIGTERM);
	waitpid(srv_pid[i], NULL, 0);
	return -1;
}

static void
setup(void)
{
	char	cmd[1024];
	int	try;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem "
	    "-out cert.pem -days 2 -subj /CN=localhost -addext "
	    "subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout other.key -out other.pem -days 2 -subj /CN=other "
	    ">/dev/null 2>&1 && ln -s /dev/zero zero", dir);
	ck_assert_int_eq(system(cmd), 0);
	put("acct", "HTTP/1.0 201 Created\r\n"
	    "Content-Type: application/json\r\n"
	    "Location: https://ca.example/acct/1\r\n"
	    "Replay-Nonce: nonce-1\r\n"
	    "Retry-After: 7\r\n"
	    "Link: <https://ca.example/dir>;rel=\"index\"\r\n"
	    "Link: <https://ca.example/cert/1/1>;rel=\"alternate\"\r\n"
	    "\r\n{\"status\":\"valid\"}", 0);
	put("moved", "HTTP/1.0 302 Found\r\n"
	    "Location: https://127.0.0.1:1/elsewhere\r\n\r\n", 0);
	put("gone", "HTTP/1.0 404 Not Found\r\n"
	    "Content-Type: application/problem+json\r\n\r\n{}", 0);
	put("big", "HTTP/1.0 200 OK\r\n\r\n", 5000);
	put("cap", "HTTP/1.0 200 OK\r\n\r\n", HTTP_MAX_BODY);
	put("over", "HTTP/1.0 200 OK\r\n\r\n", HTTP_MAX_BODY + 1);
	for (try = 0; try < 5 && server_try(0, "-HTTP") == -1; try++)
		;
	ck_assert_int_ne(srv_port[0], 0);
	for (try = 0; try < 5 && server_try(1, "-WWW") == -1; try++)
		;
	ck_assert_int_ne(srv_port[1], 0);
}

static void
teardown(void)
{
	char	cmd[600];
	int	i;

	for (i = 0; i < 2; i++)
		if (srv_pid[i] > 0) {
			kill(srv_pid[i], SIGTERM);
			waitpid(srv_pid[i], NULL, 0);
		}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static int
get(const char *the_url, const char *ca, size_t max, struct http_resp *r,
    struct cv_err *err)
{
	struct http_req	q;

	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.url = the_url;
	q.ca_file = ca;
	q.max_body = max;
	return http_do(&q, r, err);
}

START_TEST(test_headers)
{
	struct http_resp	r;
	struct cv_err		err;

	ck_assert_int_eq(get(u(0, "acct"), at("cert.pem"), 0, &r, &err), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(r.body, "{\"status\":\"valid\"}");
	ck_assert_uint_eq(r.body_len, strlen(r.body));
	ck_assert_str_eq(r.location, "https://ca.example/acct/1");
	ck_assert_str_eq(r.replay_nonce, "nonce-1");
	ck_assert_str_eq(r.retry_after, "7");
	ck_assert_str_eq(r.content_type, "application/json");
	ck_assert_uint_eq(r.nlinks, 2);
	ck_assert_str_eq(r.links[0], "<https://ca.example/dir>;rel=\"index\"");
	ck_assert_str_eq(r.links[1],
	    "<https://ca.example/cert/1/1>;rel=\"alternate\"");
	ck_assert_ptr_null(r.links[2]);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_status_not_followed)
{
	struct http_resp	r;
	struct cv_err		err;

	/* A redirect comes back as it is: the caller never leaves the CA. */
	ck_assert_int_eq(get(u(0, "moved"), at("cert.pem"), 0, &r, &err), 0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_str_eq(r.location, "https://127.0.0.1:1/elsewhere");
	ck_assert_str_eq(r.body, "");
	http_resp_free(&r);
	/* 4xx is a reply, not a transport error: the ACME code reads it. */
	ck_assert_int_eq(get(u(0, "gone"), at("cert.pem"), 0, &r, &err), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(r.content_type, "application/problem+json");
	http_resp_free(&r);
}
END_TEST

START_TEST(test_cap)
{
	struct http_resp	r;
	struct cv_err		err;
	time_t			t0;

	ck_assert_int_eq(get(u(0, "big"), at("cert.pem"), 4999, &r, &err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than 4999 bytes"));
	ck_assert_ptr_nonnull(strstr(err.msg, u(0, "big")));
	ck_assert_ptr_null(r.body);
	ck_assert_int_eq(get(u(0, "big"), at("cert.pem"), 5000, &r, &err), 0);
	ck_assert_uint_eq(r.body_len, 5000);
	http_resp_free(&r);
	/* The default cap is exactly HTTP_MAX_BODY. */
	ck_assert_int_eq(get(u(0, "cap"), at("cert.pem"), 0, &r, &err), 0);
	ck_assert_uint_eq(r.body_len, HTTP_MAX_BODY);
	http_resp_free(&r);
	ck_assert_int_eq(get(u(0, "over"), at("cert.pem"), 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than 1048576 bytes"));
	/* An endless body: cut at the cap, well before the 30 s timeout. */
	t0 = time(NULL);
	ck_assert_int_eq(get(u(1, "zero"), at("cert.pem"), 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than 1048576 bytes"));
	ck_assert_int_lt(time(NULL) - t0, 20);
}
END_TEST

START_TEST(test_refused)
{
	struct http_resp	r;
	struct cv_err		err;
	char			 bad[128];

	/* Pebble's HTTPS anchored elsewhere: a TLS failure naming the URL. */
	ck_assert_int_eq(get(u(0, "acct"), at("other.pem"), 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "GET https://127.0.0.1:"));
	ck_assert_ptr_null(r.body);
	/* Plain http only to loopback; other schemes never. */
	ck_assert_int_eq(get("http://ca.example/dir", NULL, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "only https://"));
	ck_assert_int_eq(get("file:///etc/passwd", NULL, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "only https://"));
	ck_assert_int_eq(get("ftp://127.0.0.1/x", NULL, 0, &r, &err), -1);
	/* http to loopback is allowed: s_server answers TLS, not HTTP. */
	snprintf(bad, sizeof(bad), "http://127.0.0.1:%d/acct", srv_port[0]);
	ck_assert_int_eq(get(bad, NULL, 0, &r, &err), -1);
	ck_assert_ptr_null(strstr(err.msg, "only https://"));
	/* Nothing listening. */
	snprintf(bad, sizeof(bad), "https://127.0.0.1:%d/dir", free_port());
	ck_assert_int_eq(get(bad, NULL, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, bad));
	http_resp_free(&r);
}
END_TEST

START_TEST(test_retry_after)
{
	int64_t	s;
	time_t	now = 1445412480;	/* Wed, 21 Oct 2015 07:28:00 GMT */

	ck_assert_int_eq(http_retry_after("120", now, &s), 0);
	ck_assert_int_eq(s, 120);
	ck_assert_int_eq(http_retry_after(" 0 ", now, &s), 0);
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    now - 90, &s), 0);
	ck_assert_int_eq(s, 90);
	/* RFC 850 and asctime() forms too (RFC 9110 5.6.7). */
	ck_assert_int_eq(http_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT",
	    now - 5, &s), 0);
	ck_assert_int_eq(s, 5);
	ck_assert_int_eq(http_retry_after("Wed Oct 21 07:28:00 2015",
	    now - 5, &s), 0);
	ck_assert_int_eq(s, 5);
	/* A date in the past: now. */
	ck_assert_int_eq(http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
	    now + 3600, &s), 0);
	ck_assert_int_eq(s, 0);
	/* Absurd delays are clamped, not overflowed. */
	ck_assert_int_eq(http_retry_after("99999999999999999999999999", now,
	    &s), 0);
	ck_assert_int_eq(s, HTTP_MAX_RETRY_AFTER);
	ck_assert_int_eq(http_retry_after("-5", now, &s), -1);
	ck_assert_int_eq(http_retry_after("12s", now, &s), -1);
	ck_assert_int_eq(http_retry_after("", now, &s), -1);
	ck_assert_int_eq(http_retry_after("soon", now, &s), -1);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("https");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_status_not_followed);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_retry_after);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 nf;
	struct cv_err	err;

	signal(SIGPIPE, SIG_IGN);
	if (http_init(&err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
