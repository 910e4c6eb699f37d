/*
 * check_edge: sluice at the edge (sluice.ini(5): trusted_proxies), with
 * the real binary and a real origin. What the origin receives is read
 * from its /echo (the request head as it arrived), and the client address
 * from the access log and from a header rule with $remote_addr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/check_main.h"
#include "tests/itest.h"

#define WAIT_MS		10000

/*
 * The values of every header line called name in the head text (lines
 * "Name: value\r\n"), joined with " | ", into buf; how many there were.
 */
static int
edge_head_values(const char *head, const char *name, char *buf, size_t len)
{
	const char	*p = head, *eol;
	size_t		 n = strlen(name), at = 0;
	int		 count = 0;

	buf[0] = '\0';
	for (; p != NULL && *p != '\0'; p = eol != NULL ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ')
			p++;
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0,
		    "%s%.*s", count > 0 ? " | " : "", (int)((eol != NULL ? eol :
		    p + strlen(p)) - p - (eol != NULL && eol > p &&
		    eol[-1] == '\r')), p);
		count++;
	}
	return count;
}

/* The CLIENT field of the access log's last line, without the port. */
static void
edge_last_client(struct itest *t, char *buf, size_t len)
{
	char	*log = itest_read_file(t->access_log, NULL);
	char	*line, *end, *colon;

	end = log + strlen(log);
	if (end > log && end[-1] == '\n')
		*--end = '\0';
	line = strrchr(log, '\n');
	line = line != NULL ? line + 1 : log;
	/* "TIME CLIENT:PORT LISTENER ..." */
	line = strchr(line, ' ');
	ck_assert_ptr_nonnull(line);
	snprintf(buf, len, "%.*s", (int)strcspn(line + 1, " "), line + 1);
	if ((colon = strrchr(buf, ':')) != NULL)
		*colon = '\0';
	free(log);
}

/* A request from the client with extra header lines; the echoed head. */
static char *
edge_echo(struct itest *t, const char *extra, int nlines)
{
	struct itest_resp	 r;
	char			 req[1024];
	char			*head;

	snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: app.example"
	    "\r\n%s\r\n", extra);
	itest_request(t->sluice.port, req, &r);
	ck_assert_int_eq(r.status, 200);
	head = (char *)r.body;
	r.body = NULL;
	itest_resp_free(&r);
	ck_assert(itest_wait_lines(t->access_log, nlines, WAIT_MS));
	return head;
}

/* One request through a trusted or untrusted peer, and what must come. */
static const struct {
	const char	*why;
	int		 trusted;	/* 127.0.0.1 is a trusted proxy */
	const char	*sent;		/* header lines */
	const char	*xff;		/* what the origin gets */
	const char	*proto;
	const char	*host;
	const char	*forwarded;	/* "" none */
	const char	*client;	/* access log, $remote_addr */
} xff_cases[] = {
	{ "untrusted: a forged chain is replaced", 0,
	    "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n"
	    "Forwarded: for=1.2.3.4\r\n",
	    "127.0.0.1", "http", "app.example", "", "127.0.0.1" },
	{ "untrusted: nothing sent", 0, "",
	    "127.0.0.1", "http", "app.example", "", "127.0.0.1" },
	{ "trusted: the client is the rightmost untrusted entry", 1,
	    "X-Forwarded-For: 203.0.113.7, 10.1.2.3\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example\r\n",
	    "203.0.113.7, 10.1.2.3, 127.0.0.1", "https", "www.example", "",
	    "203.0.113.7" },
	{ "trusted: a client's forged entry left of the real one", 1,
	    "X-Forwarded-For: 1.1.1.1, 203.0.113.7\r\n",
	    "1.1.1.1, 203.0.113.7, 127.0.0.1", "http", "app.example", "",
	    "203.0.113.7" },
	{ "trusted: over two lines, three hops", 1,
	    "X-Forwarded-For: 198.51.100.4\r\n"
	    "X-Forwarded-For: 10.9.9.9, 10.1.1.1\r\n",
	    "198.51.100.4, 10.9.9.9, 10.1.1.1, 127.0.0.1", "http",
	    "app.example", "", "198.51.100.4" },
	{ "trusted: every hop trusted: the leftmost", 1,
	    "X-Forwarded-For: 10.0.0.9, 10.0.0.8\r\n",
	    "10.0.0.9, 10.0.0.8, 127.0.0.1", "http", "app.example", "",
	    "10.0.0.9" },
	{ "trusted: IPv6 entries", 1,
	    "X-Forwarded-For: 2001:DB8::7, [2001:db8:ff::2]\r\n",
	    "2001:DB8::7, [2001:db8:ff::2], 127.0.0.1", "http",
	    "app.example", "", "2001:db8::7" },
	{ "trusted: an entry that is no address ends the walk", 1,
	    "X-Forwarded-For: 203.0.113.7, unknown, 10.0.0.2\r\n",
	    "203.0.113.7, unknown, 10.0.0.2, 127.0.0.1", "http",
	    "app.example", "", "10.0.0.2" },
	{ "trusted: Forwarded passes", 1,
	    "Forwarded: for=203.0.113.7\r\n",
	    "127.0.0.1", "http", "app.example", "for=203.0.113.7",
	    "127.0.0.1" },
};

/*
 * Each row (loop 0: the untrusted ones, 1: the trusted): what the
 * origin receives in X-Forwarded-For, -Proto, -Host
 * and Forwarded, and which client address the access log and
 * $remote_addr show.
 */
START_TEST(test_xff)
{
	struct itest	 t;
	char		 v[512], client[64], *head;
	size_t		 i;
	int		 trusted = _i, n = 0;

	{
		itest_init(&t);
		itest_origin_start(&t, 0, "a");
		itest_sluice_port(&t);
		itest_sluice_start(&t, "[listener web]\nlisten = 127.0.0.1:%d\n"
		    "upstream = app\n%s"
		    "request_header = set X-Client $remote_addr\n\n"
		    "[upstream app]\nserver = 127.0.0.1:%d\n",
		    t.sluice.port, trusted ? "trusted_proxies = 127.0.0.1 "
		    "10.0.0.0/8 2001:db8:ff::/48\n" : "", t.origin[0].port);
		for (i = 0, n = 0; i < sizeof(xff_cases) /
		    sizeof(xff_cases[0]); i++) {
			if (xff_cases[i].trusted != trusted)
				continue;
			head = edge_echo(&t, xff_cases[i].sent, ++n);
			ck_assert_int_eq(edge_head_values(head,
			    "X-Forwarded-For", v, sizeof(v)), 1);
			ck_assert_msg(strcmp(v, xff_cases[i].xff) == 0,
			    "%s: X-Forwarded-For %s, want %s",
			    xff_cases[i].why, v, xff_cases[i].xff);
			edge_head_values(head, "X-Forwarded-Proto", v,
			    sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].proto) == 0,
			    "%s: X-Forwarded-Proto %s", xff_cases[i].why, v);
			edge_head_values(head, "X-Forwarded-Host", v,
			    sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].host) == 0,
			    "%s: X-Forwarded-Host %s", xff_cases[i].why, v);
			edge_head_values(head, "Forwarded", v, sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].forwarded) == 0,
			    "%s: Forwarded %s", xff_cases[i].why, v);
			edge_head_values(head, "X-Client", v, sizeof(v));
			ck_assert_msg(strcmp(v, xff_cases[i].client) == 0,
			    "%s: $remote_addr %s, want %s", xff_cases[i].why,
			    v, xff_cases[i].client);
			edge_last_client(&t, client, sizeof(client));
			ck_assert_msg(strcmp(client, xff_cases[i].client) == 0,
			    "%s: access log client %s, want %s",
			    xff_cases[i].why, client, xff_cases[i].client);
			free(head);
		}
		itest_finish(&t);
	}
}
END_TEST

/* The suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("edge");
	TCase	*tc = tcase_create("addr");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_xff, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
