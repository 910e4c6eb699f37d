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

/*
 * One connection's scan state, on every connection whether it is busy or
 * idle, so it is kept small: flags in bits, the limits in 32 bits where
 * they fit (durations are at most a day).
 */
struct nulscan {
	struct bufferevent	*bev;
	struct nulscan_clock	*clock;		/* the deadline's list; NULL:
						 * none runs */
	uint64_t		 due;		/* its time (sluice_now_ms) */
	TAILQ_ENTRY(nulscan)	 clock_entry;
	TAILQ_ENTRY(nulscan)	 wait;		/* waiting, in order */
	uint64_t		 held;		/* body bytes it counts in
						 * nulscan_bodies */
	uint64_t		 max_input;	/* see nulscan_limits */
	unsigned long		 seq;		/* age, for reclaiming */
	uint32_t		 head_ms;	/* see nulscan_limits */
	uint32_t		 body_ms;
	uint32_t		 tlen;		/* bytes of the request line so
						 * far */
	unsigned char		 tail[NULSCAN_TAIL]; /* that line's last
						 * bytes, a ring */
	unsigned char		 phase;		/* the deadline running: 0,
						 * NULSCAN_HEAD, ..._CLOSE */
	unsigned		 scanning:1;	/* inside a request head */
	unsigned		 nl:1;		/* the head ends at a 2nd LF */
	unsigned		 found:1;	/* a NUL in this head */
	unsigned		 started:1;	/* a byte of this head seen */
	unsigned		 line1:1;	/* its request line is over */
	unsigned		 badver:1;	/* its version is not
						 * HTTP/DIGIT.DIGIT */
	unsigned		 refused:1;	/* 408 or 413: shut */
	unsigned		 waiting:1;	/* not read: over the budget */
	unsigned		 admitted:1;	/* let in after waiting: reads
						 * its body to the end */
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

/*
 * The deadlines, without an event per connection (an event is 136 bytes
 * on every idle connection, and an add and a delete in the timer heap per
 * request): the connections of a listener all wait as long
 * (client_header_timeout, client_body_timeout, the linger), so deadlines
 * of one length fall due in the order they were set. One list per
 * length, in that order, and one timer per list, set for its first when
 * the list was empty and, when it fires, for the next one still there.
 * A deadline taken away stays out of the timer: it fires early at worst.
 */
struct nulscan_clock {
	uint64_t		 ms;		/* the length */
	struct nulscan_list	 due;		/* oldest first */
	struct event		*ev;
	int			 armed;		/* ev is pending */
};
#define NULSCAN_CLOCKS	64	/* lengths in use at once, per worker */
static __thread struct nulscan_clock	*clocks[NULSCAN_CLOCKS];
static __thread int			 nclocks;
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

static void	nulscan_deadline(struct nulscan *);

/* Take n's deadline, if one runs, off its list. */
static void
nulscan_unclock(struct nulscan *n)
{
	if (n->clock != NULL) {
		TAILQ_REMOVE(&n->clock->due, n, clock_entry);
		n->clock = NULL;
	}
}

/* Set c's timer for its first deadline, if it has one. */
static void
nulscan_clock_set(struct nulscan_clock *c, uint64_t now)
{
	struct nulscan	*n = TAILQ_FIRST(&c->due);
	struct timeval	 tv;

	if (n == NULL || c->armed)
		return;
	tv = sluice_tv(n->due > now ? n->due - now : 0);
	if (evtimer_add(c->ev, &tv) == 0)
		c->armed = 1;
}

/* c's timer: every deadline of its list that is due, in order. */
static void
nulscan_clock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nulscan_clock	*c = arg;
	struct nulscan		*n;
	uint64_t		 now = sluice_now_ms();

	c->armed = 0;
	while ((n = TAILQ_FIRST(&c->due)) != NULL && n->due <= now) {
		nulscan_unclock(n);
		nulscan_deadline(n);	/* n may be gone, or on a list again */
	}
	nulscan_clock_set(c, now);
}

/* The list of deadlines ms long; NULL when there is no room. */
static struct nulscan_clock *
nulscan_clock(uint64_t ms)
{
	struct nulscan_clock	*c;
	int			 i;

	for (i = 0; i < nclocks; i++)
		if (clocks[i]->ms == ms)
			return clocks[i];
	/* a reload changed a length: an empty list takes the new one */
	for (i = 0; i < nclocks; i++)
		if (TAILQ_EMPTY(&clocks[i]->due)) {
			c = clocks[i];
			if (c->armed)
				evtimer_del(c->ev);
			c->armed = 0;
			c->ms = ms;
			return c;
		}
	if (nclocks == NULSCAN_CLOCKS || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->ev = evtimer_new(sluice_base, nulscan_clock_cb, c)) == NULL) {
		free(c);
		return NULL;
	}
	c->ms = ms;
	TAILQ_INIT(&c->due);
	clocks[nclocks++] = c;
	return c;
}

/* Run n's deadline ms from now, in place of any it had. */
static void
nulscan_clock_add(struct nulscan *n, uint64_t ms)
{
	struct nulscan_clock	*c;
	uint64_t		 now = sluice_now_ms();

	nulscan_unclock(n);
	if ((c = nulscan_clock(ms)) == NULL)
		return;
	n->due = now + ms;
	n->clock = c;
	TAILQ_INSERT_TAIL(&c->due, n, clock_entry);
	nulscan_clock_set(c, now);
}

/* Remove and free n. */
static void
nulscan_remove(struct nulscan *n)
{
	nulscan_release(n);
	nulscan_unclock(n);
	ptrmap_del(&map, n->bev);
	free(n);
}

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
	nulscan_clock_add(n, NULSCAN_LINGER_MS);
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

/* A deadline passed: 408 and the close, or the linger's close. */
static void
nulscan_deadline(struct nulscan *n)
{
	static __thread struct log_limit	 lim;
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
	n->phase = phase;
	nulscan_clock_add(n, phase == NULSCAN_HEAD ? n->head_ms :
	    n->body_ms);
}

/* No deadline runs on n. */
static void
nulscan_disarm(struct nulscan *n)
{
	if (n->refused)
		return;
	nulscan_unclock(n);
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

	n->tlen += (uint32_t)skip;
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
	if (n->phase != 0 && n->max_input > 0 && len > n->max_input) {
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
	n->head_ms = (uint32_t)lim->head_ms;
	n->body_ms = (uint32_t)lim->body_ms;
	n->max_input = lim->max_input;
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
			free(n);
		}
	ptrmap_free(&map);
	while (nclocks > 0) {
		event_free(clocks[--nclocks]->ev);
		free(clocks[nclocks]);
	}
	if (wait_ev != NULL)
		event_free(wait_ev);
	wait_ev = NULL;
}
