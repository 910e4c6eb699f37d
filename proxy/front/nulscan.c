/*
 * nulscan: watching request heads for NUL bytes.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "conf/conf.h"
#include "proxy/front/nulscan.h"
#include "proxy/base/log.h"
#include "proxy/base/ptrmap.h"
#include "proxy/base/runtime.h"

#define NULSCAN_MAX	65536		/* entries kept, at most */
#define NULSCAN_TAIL	10		/* " HTTP/1.1\r" */

/* One connection's scan state. */
struct nulscan {
	struct bufferevent	*bev;
	int			 scanning;	/* inside a request head */
	int			 nl;		/* the head ends at a 2nd LF */
	int			 found;		/* a NUL in this head */
	int			 started;	/* a byte of this head seen */
	int			 line1;		/* its request line is over */
	unsigned char		 tail[NULSCAN_TAIL]; /* that line's last
						 * bytes, a ring */
	size_t			 tlen;		/* bytes of the line so far */
	int			 badver;	/* its version is not
						 * HTTP/DIGIT.DIGIT */
	unsigned long		 seq;		/* age, for reclaiming */
	struct nulscan_limits	 lim;
	struct event		*deadline;	/* NULL: none made yet */
	int			 phase;		/* the deadline running: 0,
						 * NULSCAN_HEAD or _BODY */
	int			 refused;	/* 408 or 413: shut */
	uint64_t		 held;		/* body bytes it counts in
						 * nulscan_bodies */
	int			 waiting;	/* not read: over the budget */
	int			 admitted;	/* let in after waiting: reads
						 * its body to the end */
	TAILQ_ENTRY(nulscan)	 wait;		/* waiting, in order */
};

#define NULSCAN_HEAD	1
#define NULSCAN_BODY	2
#define NULSCAN_CLOSE	3	/* refused: the linger before the close */
#define NULSCAN_LINGER_MS 200	/* for the answer to reach the client */
#define NULSCAN_WAIT_POLL_MS 50	/* bodies over the budget: look again */

static const char nulscan_400[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 16\r\nConnection: close\r\n\r\n400 Bad Request\n";
static const char nulscan_408[] = "HTTP/1.1 408 Request Timeout\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\n408 Request Timeout\n";
static const char nulscan_413[] = "HTTP/1.1 413 Content Too Large\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 22\r\nConnection: close\r\n\r\n413 Content Too Large\n";

static __thread struct ptrmap	 map;	/* bufferevent -> state; per worker */
TAILQ_HEAD(nulscan_list, nulscan);
static __thread struct nulscan_list waiters;	/* see nulscan_waiting */
static __thread struct event	*wait_ev;	/* looks at the budget again */
static __thread unsigned	 admitted;	/* let in, reading their
						 * bodies to the end */
static uint64_t			 bodies;	/* atomic: body bytes read and
						 * not yet answered, all
						 * workers */
static uint64_t			 body_waits;	/* atomic: connections paused */
static uint64_t			 budget;	/* atomic: max_buffered_bodies
						 * (0: none) */
static __thread unsigned long	 seq;

/* This worker's connections paused for the budget, oldest first. */
static struct nulscan_list *
nulscan_waiting(void)
{
	if (waiters.tqh_last == NULL)
		TAILQ_INIT(&waiters);
	return &waiters;
}

/* n's body bytes leave the budget (its request is answered or gone). */
static void
nulscan_release(struct nulscan *n)
{
	if (n->waiting) {
		TAILQ_REMOVE(nulscan_waiting(), n, wait);
		n->waiting = 0;
	}
	if (n->admitted)
		admitted--;
	n->admitted = 0;
	if (n->held > 0) {
		__atomic_sub_fetch(&bodies, n->held, __ATOMIC_RELAXED);
		n->held = 0;
		if (!TAILQ_EMPTY(nulscan_waiting()) && wait_ev != NULL)
			event_active(wait_ev, EV_TIMEOUT, 0);
	}
}

/*
 * Read the waiting connections again, oldest first, while the budget has
 * room; look again later while some still wait (another worker's
 * release does not tell this one).
 */
static void
nulscan_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = sluice_tv(NULSCAN_WAIT_POLL_MS);
	struct nulscan	*n;

	/* one at a time: the one let in grows the count as it reads */
	if ((n = TAILQ_FIRST(nulscan_waiting())) != NULL &&
	    (SLUICE_LOAD(&bodies) < SLUICE_LOAD(&budget) || admitted == 0)) {
		TAILQ_REMOVE(nulscan_waiting(), n, wait);
		n->waiting = 0;
		n->admitted = 1;
		admitted++;
		if (!n->refused)
			bufferevent_enable(n->bev, EV_READ);
	}
	if (!TAILQ_EMPTY(nulscan_waiting()))
		evtimer_add(wait_ev, &tv);
}

/*
 * body bytes arrived on n: count them; past max_buffered_bodies stop
 * reading n until the budget has room again (the bytes read stay: one
 * read's worth over, per connection). The waiting ones are let in one at
 * a time, and one let in reads its body to the end; when none of this
 * worker's is being let in, the oldest goes even over the budget: the
 * partial bodies of the waiting could fill the budget between them, and
 * none would ever finish. So the budget is passed by at most one body
 * per worker (max_body_size) and a read per connection.
 */
static void
nulscan_body_bytes(struct nulscan *n, size_t added)
{
	struct timeval	tv = sluice_tv(NULSCAN_WAIT_POLL_MS);

	n->held += added;
	if (__atomic_add_fetch(&bodies, added, __ATOMIC_RELAXED) <=
	    SLUICE_LOAD(&budget) || SLUICE_LOAD(&budget) == 0 ||
	    n->waiting || n->admitted)
		return;
	if (wait_ev == NULL && (wait_ev = evtimer_new(sluice_base,
	    nulscan_wait_cb, NULL)) == NULL)
		return;
	bufferevent_disable(n->bev, EV_READ);
	n->waiting = 1;
	TAILQ_INSERT_TAIL(nulscan_waiting(), n, wait);
	SLUICE_INC(&body_waits);
	evtimer_add(wait_ev, &tv);
}

/* See nulscan.h. */
void
nulscan_set_budget(uint64_t bytes)
{
	SLUICE_STORE(&budget, bytes);
}

/* See nulscan.h. */
uint64_t
nulscan_buffered_bodies(uint64_t *waits)
{
	*waits = SLUICE_LOAD(&body_waits);
	return SLUICE_LOAD(&bodies);
}

/* Remove and free n. */
static void
nulscan_remove(struct nulscan *n)
{
	nulscan_release(n);
	ptrmap_del(&map, n->bev);
	if (n->deadline != NULL)
		event_free(n->deadline);
	free(n);
}

static void	nulscan_deadline_cb(evutil_socket_t, short, void *);
static void	nulscan_buffer_scan(struct nulscan *, struct evbuffer *,
		    size_t);

/*
 * Refuse the request being read: a connection with nothing queued for
 * the client gets answer (evhttp has no request to answer it with),
 * written to a plain socket at once, which is then shut for writing, or
 * queued on a TLS connection's bufferevent, which sends it in the linger;
 * what the client sent is thrown away, nothing more is read, and the
 * connection is freed after the linger (a shutdown alone is not enough: a
 * client that keeps sending keeps it open, as Linux queues data behind a
 * SHUT_RD).
 */
static void
nulscan_refuse(struct nulscan *n, const char *answer, size_t len)
{
	struct bufferevent	*bev = n->bev;
	evutil_socket_t		 s = bufferevent_getfd(bev);
	int			 tls = bufferevent_openssl_get_ssl(bev) != NULL;
	int			 idle = evbuffer_get_length(
				    bufferevent_get_output(bev)) == 0;
	struct timeval		 tv = sluice_tv(NULSCAN_LINGER_MS);

	n->refused = 1;
	n->scanning = 0;
	if (s != -1 && !tls && idle)
		(void)send(s, answer, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	else if (s != -1 && idle && bufferevent_write(bev, answer, len) == 0)
		bufferevent_enable(bev, EV_WRITE);
	if (s != -1 && !tls)
		shutdown(s, SHUT_WR);
	/* what it sent is thrown away unparsed; what it sends, not read */
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
	bufferevent_disable(bev, EV_READ);
	n->phase = NULSCAN_CLOSE;
	if (n->deadline == NULL)
		n->deadline = evtimer_new(sluice_base, nulscan_deadline_cb, n);
	if (n->deadline != NULL)
		evtimer_add(n->deadline, &tv);
}

/*
 * The refused connection's linger is over: free it (from a timer, outside
 * evhttp's callbacks; evhttp's connection is the argument of the
 * bufferevent's callbacks). Its close callback forgets n.
 */
static void
nulscan_close(struct nulscan *n)
{
	bufferevent_event_cb	 eventcb;
	void			*arg;

	bufferevent_getcb(n->bev, NULL, NULL, &eventcb, &arg);
	if (eventcb != NULL && arg != NULL)
		evhttp_connection_free(arg);
}

/* A deadline passed: 408 and the close. */
static void
nulscan_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	static __thread struct log_limit	 lim;
	struct nulscan				*n = arg;
	unsigned long				 held;
	int					 head;

	if (n->phase == NULSCAN_CLOSE) {
		nulscan_close(n);	/* n may be gone */
		return;
	}
	head = n->phase == NULSCAN_HEAD;
	nulscan_refuse(n, nulscan_408, sizeof(nulscan_408) - 1);
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_info("a client's request %s not whole within "
		    "client_%s_timeout: 408 and closed%s",
		    head ? "head" : "body", head ? "header" : "body",
		    held > 0 ? " (and more not logged)" : "");
}

/*
 * More unparsed input than a request may take (max_header_size +
 * max_body_size + a margin): evhttp is not making progress (a chunk-size
 * line that never ends, say, which it would buffer and rescan without
 * end). 413 and the close.
 */
static void
nulscan_overflow(struct nulscan *n, size_t len)
{
	static __thread struct log_limit	 lim;
	unsigned long				 held;

	nulscan_refuse(n, nulscan_413, sizeof(nulscan_413) - 1);
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_info("a client's request holds %zu unparsed bytes, more "
		    "than max_header_size + max_body_size allow: 413 and "
		    "closed%s", len, held > 0 ? " (and more not logged)" : "");
}

/* A request line without a valid version: 400 and the close. */
static void
nulscan_bad_version(struct nulscan *n)
{
	static __thread struct log_limit	 lim;
	unsigned long				 held;

	nulscan_refuse(n, nulscan_400, sizeof(nulscan_400) - 1);
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_info("a client's request line has no valid HTTP version "
		    "(HTTP/DIGIT.DIGIT): 400 and closed%s", held > 0 ?
		    " (and more not logged)" : "");
}

/* Run the deadline of phase (NULSCAN_HEAD or _BODY) from now. */
static void
nulscan_arm(struct nulscan *n, int phase)
{
	struct timeval	tv = sluice_tv(phase == NULSCAN_HEAD ?
			    n->lim.head_ms : n->lim.body_ms);

	if (n->deadline == NULL && (n->deadline = evtimer_new(sluice_base,
	    nulscan_deadline_cb, n)) == NULL)
		return;
	n->phase = phase;
	evtimer_add(n->deadline, &tv);
}

/* No deadline runs on n. */
static void
nulscan_disarm(struct nulscan *n)
{
	if (n->refused)
		return;
	if (n->phase != 0 && n->deadline != NULL)
		evtimer_del(n->deadline);
	n->phase = 0;
}

/* Drop the oldest entry: a connection that closed before any request. */
static void
nulscan_reclaim(void)
{
	struct nulscan	*n, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < map.size; i++)
		if ((n = map.slots[i].value) != NULL &&
		    (oldest == NULL || n->seq < oldest->seq))
			oldest = n;
	if (oldest != NULL)
		nulscan_remove(oldest);
}

/*
 * Whether the request line whose last bytes n keeps ends in a version of
 * the grammar (RFC 9112 2.3: "HTTP/" DIGIT "." DIGIT, after one SP).
 * evhttp reads "HTTP/%d.%d" and answers its own errors in the version it
 * read, "HTTP/1.-103" for "HTTP/1.921": such a line never reaches it.
 */
static int
nulscan_version_ok(const struct nulscan *n)
{
	unsigned char	 t[NULSCAN_TAIL];
	size_t		 i, len = n->tlen < NULSCAN_TAIL ? n->tlen :
			    NULSCAN_TAIL;

	for (i = 0; i < len; i++)	/* the ring, oldest byte first */
		t[i] = n->tail[(n->tlen - len + i) % NULSCAN_TAIL];
	if (len > 0 && t[len - 1] == '\r')
		len--;
	if (len < 9)
		return 0;
	return memcmp(t + len - 9, " HTTP/", 6) == 0 &&
	    t[len - 3] >= '0' && t[len - 3] <= '9' && t[len - 2] == '.' &&
	    t[len - 1] >= '0' && t[len - 1] <= '9';
}

/* Keep the last bytes of the request line (tlen counts all of them). */
static void
nulscan_tail_add(struct nulscan *n, const unsigned char *p, size_t len)
{
	size_t	skip = len > NULSCAN_TAIL ? len - NULSCAN_TAIL : 0;

	n->tlen += skip;
	for (p += skip, len -= skip; len > 0; len--)
		n->tail[n->tlen++ % NULSCAN_TAIL] = *p++;
}

/*
 * Scan len bytes of a head: stop at its end, a LF after a LF with only
 * CRs between (an empty line). A line at a time: memchr finds its LF and
 * any NUL in it, which costs a few instructions a line rather than a few
 * branches a byte (the model in tests/fuzz/fuzz_nulscan.c is the byte at
 * a time reading this must agree with).
 */
static void
nulscan_bytes(struct nulscan *n, const unsigned char *p, size_t len)
{
	const unsigned char	*end = p + len, *lf, *stop;

	if (len > 0 && n->scanning)
		n->started = 1;
	while (p < end && n->scanning) {
		if (n->nl) {
			while (p < end && *p == '\r')
				p++;
			if (p == end)
				break;
			if (*p == '\n') {
				n->scanning = 0;	/* head complete */
				break;
			}
			n->nl = 0;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		stop = lf != NULL ? lf : end;
		if (memchr(p, '\0', (size_t)(stop - p)) != NULL)
			n->found = 1;
		if (!n->line1)
			nulscan_tail_add(n, p, (size_t)(stop - p));
		if (lf == NULL)
			break;
		if (!n->line1) {
			n->line1 = 1;
			n->badver = !nulscan_version_ok(n);
		}
		n->nl = 1;
		p = lf + 1;
	}
}

/*
 * Scan buf from offset off on, while inside a head; a head's first byte
 * starts its deadline, its end the body's.
 */
static void
nulscan_buffer(struct nulscan *n, struct evbuffer *buf, size_t off)
{
	int	started = n->started;

	nulscan_buffer_scan(n, buf, off);
	if (n->badver && !n->refused) {
		nulscan_bad_version(n);
		return;
	}
	if (!started && n->started && n->scanning)
		nulscan_arm(n, NULSCAN_HEAD);
	if (!n->scanning && (started || n->started) && n->phase !=
	    NULSCAN_BODY && !n->refused)
		nulscan_arm(n, NULSCAN_BODY);
}

/* nulscan_buffer's scan. */
static void
nulscan_buffer_scan(struct nulscan *n, struct evbuffer *buf, size_t off)
{
	struct evbuffer_ptr	 ptr;
	struct evbuffer_iovec	 v[8];
	int			 i, nv;

	while (n->scanning && off < evbuffer_get_length(buf)) {
		if (evbuffer_ptr_set(buf, &ptr, off, EVBUFFER_PTR_SET) == -1)
			return;
		nv = evbuffer_peek(buf, -1, &ptr, v, 8);
		if (nv <= 0)
			return;
		if (nv > 8)
			nv = 8;
		for (i = 0; i < nv && n->scanning; i++) {
			nulscan_bytes(n, v[i].iov_base, v[i].iov_len);
			off += v[i].iov_len;
		}
	}
}

/* Bytes were added to a client's input: scan the new ones. */
static void
nulscan_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct nulscan	*n;
	size_t		 len;

	if (info->n_added == 0 || (n = ptrmap_get(&map, arg)) == NULL)
		return;
	len = evbuffer_get_length(buf);
	if (n->refused) {
		evbuffer_drain(buf, len);
		return;
	}
	if (n->phase != 0 && n->lim.max_input > 0 && len > n->lim.max_input) {
		nulscan_overflow(n, len);
		return;
	}
	if (n->phase == NULSCAN_BODY)
		nulscan_body_bytes(n, info->n_added);
	if (n->scanning)
		nulscan_buffer(n, buf, len - info->n_added);
}

#define NULSCAN_SLACK	16384	/* unparsed input past a request's own
				 * bounds: a read's worth */

/* See nulscan.h. */
void
nulscan_limits_of(const struct conf_listener *cl, struct nulscan_limits *lim)
{
	lim->head_ms = cl->client_header_timeout_ms;
	lim->body_ms = cl->client_body_timeout_ms;
	lim->max_input = cl->max_header_size + cl->max_body_size +
	    NULSCAN_SLACK;
}

/* See nulscan.h. */
int
nulscan_attach(struct bufferevent *bev, const struct nulscan_limits *lim)
{
	struct nulscan	*n;

	/* a dead one's address */
	if ((n = ptrmap_get(&map, bev)) != NULL)
		nulscan_remove(n);
	if (map.count >= NULSCAN_MAX)
		nulscan_reclaim();
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	n->bev = bev;
	n->scanning = 1;
	n->seq = ++seq;
	n->lim = *lim;
	if (ptrmap_put(&map, bev, n) == -1) {
		free(n);
		return -1;
	}
	if (evbuffer_add_cb(bufferevent_get_input(bev), nulscan_cb,
	    bev) == NULL) {
		nulscan_remove(n);
		return -1;
	}
	return 0;
}

/* See nulscan.h. */
int
nulscan_found(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	return n != NULL && n->found;
}

/* See nulscan.h. Pipelined bytes already buffered are scanned now. */
void
nulscan_next(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	if (n == NULL)
		return;
	n->scanning = 1;
	n->nl = 0;
	n->found = 0;
	n->started = 0;
	n->line1 = 0;
	n->tlen = 0;
	n->badver = 0;
	nulscan_disarm(n);
	nulscan_release(n);
	nulscan_buffer(n, bufferevent_get_input(bev), 0);
}

/* See nulscan.h. */
void
nulscan_dispatched(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	if (n != NULL)
		nulscan_disarm(n);
}

/* See nulscan.h. */
void
nulscan_forget(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	if (n != NULL)
		nulscan_remove(n);
}

/* See nulscan.h. */
void
nulscan_free(void)
{
	struct nulscan	*n;
	size_t		 i;

	for (i = 0; i < map.size; i++)
		if ((n = map.slots[i].value) != NULL) {
			nulscan_release(n);
			if (n->deadline != NULL)
				event_free(n->deadline);
			free(n);
		}
	ptrmap_free(&map);
	if (wait_ev != NULL)
		event_free(wait_ev);
	wait_ev = NULL;
}
