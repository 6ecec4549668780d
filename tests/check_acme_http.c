/*
 * src/acme_http.c (issue 17, http_listen) over real loopback sockets: a
 * served token answers its key authorization, anything else 404, a
 * request over the cap gets no reply, the address is bound only while a
 * token is out, and a bind error comes back to the caller.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "acme_http.h"

static int	port;
static char	addr[64];

/* A free loopback port (bound and released). */
static int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

static int
dial(void)
{
	struct sockaddr_in	sa;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req, reads the reply until the server closes (bounded 30 s). */
static char *
ask(const char *req, size_t reqlen)
{
	static char	buf[8192];
	struct pollfd	pfd;
	size_t		n = 0;
	ssize_t		r;
	int		fd = dial();

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq((int)write(fd, req, reqlen), (int)reqlen);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		ck_assert_int_eq(poll(&pfd, 1, 30000), 1);
		if ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* Until dial() succeeds (want 1) or is refused (want 0), 30 s at most. */
static int
wait_open(int want)
{
	struct timespec	ts = { 0, 20 * 1000 * 1000 };
	int		i, fd;

	for (i = 0; i < 1500; i++) {
		fd = dial();
		if (fd != -1)
			close(fd);
		if ((fd != -1) == want)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

START_TEST(test_serve)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	struct cv_err	 err;
	char		*big, *r;
	int		 i, rc;
	const char	*get = "GET /.well-known/acme-challenge/tok1 HTTP/1.1\r\n"
			    "Host: localhost\r\n\r\n";
	const char	*get3 = "GET /.well-known/acme-challenge/tok3 HTTP/1.0"
			    "\n\n";
	const char	*nope = "GET /.well-known/acme-challenge/nope HTTP/1.1"
			    "\r\n\r\n";
	const char	*other = "GET /etc/passwd HTTP/1.1\r\n\r\n";
	const char	*post = "POST /.well-known/acme-challenge/tok1 "
			    "HTTP/1.1\r\n\r\n";

	port = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ck_assert_int_eq(acme_http_addr_ok(addr, &err), 0);
	ck_assert_int_eq(dial(), -1);	/* nothing listens before */
	ck_assert_int_eq(acme_http_serve(addr, "tok1", "tok1.thumb", &err),
	    0);
	ck_assert_int_eq(acme_http_serve(addr, "tok1", "tok1.thumb", &err),
	    0);
	ck_assert_int_eq(acme_http_serve(addr, "tok2", "tok2.thumb", &err),
	    0);
	r = ask(get, strlen(get));
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\ntok1.thumb"));
	r = ask(nope, strlen(nope));
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%s", r);
	r = ask(other, strlen(other));
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%s", r);
	r = ask(post, strlen(post));
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%s", r);
	/* Over the cap without an end of headers: closed, no reply. */
	big = malloc(ACME_HTTP_MAX_REQ + 100);
	memset(big, 'A', ACME_HTTP_MAX_REQ + 100);
	memcpy(big, get, 20);
	r = ask(big, ACME_HTTP_MAX_REQ + 100);
	ck_assert_str_eq(r, "");
	free(big);
	/* One token gone: still listening for the other. */
	acme_http_unserve(addr, "tok1");
	r = ask(get, strlen(get));
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%s", r);
	acme_http_unserve(addr, "tok2");
	ck_assert_msg(wait_open(0), "still listening without tokens");
	/* And again: listening anew. */
	/* 1 while the old listener is still closing: asked again. */
	for (i = 0; i < 1500 && (rc = acme_http_serve(addr, "tok3", "tok3.k",
	    &err)) == 1; i++)
		nanosleep(&ts, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(wait_open(1), "not listening again");
	r = ask(get3, strlen(get3));
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\ntok3.k"));
	acme_http_unserve(addr, "tok3");
	ck_assert_msg(wait_open(0), "still listening without tokens");
}
END_TEST

START_TEST(test_bind_error)
{
	struct sockaddr_in	sa;
	struct cv_err		err;
	int			fd = socket(AF_INET, SOCK_STREAM, 0), p;
	char			a[64];

	p = free_port();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	snprintf(a, sizeof(a), "127.0.0.1:%d", p);
	ck_assert_int_eq(acme_http_serve(a, "t", "t.k", &err), -1);
	ck_assert_msg(strstr(err.msg, "in use") != NULL, "%s", err.msg);
	close(fd);
	ck_assert_int_eq(acme_http_addr_ok("localhost:80", &err), -1);
	ck_assert_int_eq(acme_http_addr_ok("127.0.0.1", &err), -1);
	ck_assert_int_eq(acme_http_addr_ok("127.0.0.1:0", &err), -1);
	ck_assert_int_eq(acme_http_addr_ok("[::1]:8080", &err), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("acme_http");
	TCase	*tc = tcase_create("responder");
	SRunner	*sr;
	int	 nf;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_serve);
	tcase_add_test(tc, test_bind_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
