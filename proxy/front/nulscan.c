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
#include "proxy/base/runtime.h"

#define NULSCAN_SPARE	64		/* runs kept for reuse */
#define NULSCAN_TAIL	10		/* " HTTP/1.1\r" */

/*
 * What reading one request needs, from its head's first byte until it is
 * answered (or the connection is refused and closed): taken from a small
 * free list when the byte arrives, given back after.
 */
struct nulscan_run {
	struct nulscan		*n;		/* its connection's */
	struct nulscan_clock	*clock;		/* the deadline's list; NULL:
						 * none runs */
	uint64_t		 due;		/* its time (sluice_now_ms) */
	TAILQ_ENTRY(nulscan_run) clock_entry;
	TAILQ_ENTRY(nulscan_run) wait;		/* waiting, in order */
	uint64_t		 held;		/* body bytes it counts in
						 * nulscan_bodies */
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
	unsigned		 held_back:1;	/* the read watermark is set
						 * (pipelined input) */
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

TAILQ_HEAD(nulscan_list, nulscan_run);

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
static __thread struct nulscan_run *spare[NULSCAN_SPARE]; /* for reuse */
static __thread int		 nspare;

/* This worker's connections paused for the budget, oldest first. */
static struct nulscan_list *
nulscan_waiting(void)
{
	if (waiters.tqh_last == NULL)
		TAILQ_INIT(&waiters);
	return &waiters;
}

/* r's body bytes leave the budget (its request is answered or gone). */
static void
nulscan_release(struct nulscan_run *r)
{
	if (r->waiting) {
		TAILQ_REMOVE(nulscan_waiting(), r, wait);
		r->waiting = 0;
	}
	if (r->admitted)
		admitted--;
	r->admitted = 0;
	if (r->held > 0) {
		__atomic_sub_fetch(&bodies, r->held, __ATOMIC_RELAXED);
		r->held = 0;
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
	struct nulscan_run *r;

	/* one at a time: the one let in grows the count as it reads */
	if ((r = TAILQ_FIRST(nulscan_waiting())) != NULL &&
	    (SLUICE_LOAD(&bodies) < SLUICE_LOAD(&budget) || admitted == 0)) {
		TAILQ_REMOVE(nulscan_waiting(), r, wait);
		r->waiting = 0;
		r->admitted = 1;
		admitted++;
		if (!r->refused)
			bufferevent_enable(r->n->bev, EV_READ);
	}
	if (!TAILQ_EMPTY(nulscan_waiting()))
		evtimer_add(wait_ev, &tv);
}

/*
 * body bytes arrived on r: count them; past max_buffered_bodies stop
 * reading its connection until the budget has room again (the bytes
 * read stay: one read's worth over, per connection). The waiting ones
 * are let in one at a time, and one let in reads its body to the end;
 * when none of this worker's is being let in, the oldest goes even over
 * the budget: the partial bodies of the waiting could fill the budget
 * between them, and none would ever finish. So the budget is passed by
 * at most one body per worker (max_body_size) and a read per
 * connection.
 */
static void
nulscan_body_bytes(struct nulscan_run *r, size_t added)
{
	struct timeval	tv = sluice_tv(NULSCAN_WAIT_POLL_MS);

	r->held += added;
	if (__atomic_add_fetch(&bodies, added, __ATOMIC_RELAXED) <=
	    SLUICE_LOAD(&budget) || SLUICE_LOAD(&budget) == 0 ||
	    r->waiting || r->admitted)
		return;
	if (wait_ev == NULL && (wait_ev = evtimer_new(sluice_base,
	    nulscan_wait_cb, NULL)) == NULL)
		return;
	bufferevent_disable(r->n->bev, EV_READ);
	r->waiting = 1;
	TAILQ_INSERT_TAIL(nulscan_waiting(), r, wait);
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

static void	nulscan_deadline(struct nulscan_run *);

/* Take r's deadline, if one runs, off its list. */
static void
nulscan_unclock(struct nulscan_run *r)
{
	if (r->clock != NULL) {
		TAILQ_REMOVE(&r->clock->due, r, clock_entry);
		r->clock = NULL;
	}
}

/* Set c's timer for its first deadline, if it has one. */
static void
nulscan_clock_set(struct nulscan_clock *c, uint64_t now)
{
	struct nulscan_run *r = TAILQ_FIRST(&c->due);
	struct timeval	 tv;

	if (r == NULL || c->armed)
		return;
	tv = sluice_tv(r->due > now ? r->due - now : 0);
	if (evtimer_add(c->ev, &tv) == 0)
		c->armed = 1;
}

/* c's timer: every deadline of its list that is due, in order. */
static void
nulscan_clock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nulscan_clock	*c = arg;
	struct nulscan_run	*r;
	uint64_t		 now = sluice_now_ms();

	c->armed = 0;
	while ((r = TAILQ_FIRST(&c->due)) != NULL && r->due <= now) {
		nulscan_unclock(r);
		nulscan_deadline(r);	/* r may be gone, or on a list again */
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

/* Run r's deadline ms from now, in place of any it had. */
static void
nulscan_clock_add(struct nulscan_run *r, uint64_t ms)
{
	struct nulscan_clock	*c;
	uint64_t		 now = sluice_now_ms();

	nulscan_unclock(r);
	if ((c = nulscan_clock(ms)) == NULL)
		return;
	r->due = now + ms;
	r->clock = c;
	TAILQ_INSERT_TAIL(&c->due, r, clock_entry);
	nulscan_clock_set(c, now);
}

/* A run for n's next request: the head's first byte is here. */
static struct nulscan_run *
nulscan_run_take(struct nulscan *n)
{
	struct nulscan_run	*r;

	if (nspare > 0) {
		r = spare[--nspare];
		memset(r, 0, sizeof(*r));
	} else if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->n = n;
	r->scanning = 1;
	n->run = r;
	return r;
}

/* n's request is over: its run leaves every list and is given back. */
static void
nulscan_run_give(struct nulscan *n)
{
	struct nulscan_run	*r = n->run;

	if (r == NULL)
		return;
	nulscan_release(r);
	nulscan_unclock(r);
	n->run = NULL;
	if (nspare < NULSCAN_SPARE)
		spare[nspare++] = r;
	else
		free(r);
}

static void	nulscan_buffer_scan(struct nulscan_run *, struct evbuffer *,
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
nulscan_refuse(struct nulscan_run *r, const char *answer, size_t len)
{
	struct bufferevent	*bev = r->n->bev;
	evutil_socket_t		 s = bufferevent_getfd(bev);
	int			 tls = bufferevent_openssl_get_ssl(bev) != NULL;
	int			 idle = evbuffer_get_length(
				    bufferevent_get_output(bev)) == 0;

	r->refused = 1;
	r->scanning = 0;
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
	r->phase = NULSCAN_CLOSE;
	nulscan_clock_add(r, NULSCAN_LINGER_MS);
}

/*
 * The refused connection's linger is over: free it (from a timer, outside
 * evhttp's callbacks; evhttp's connection is the argument of the
 * bufferevent's callbacks). Its close callback forgets r.
 */
static void
nulscan_close(struct nulscan_run *r)
{
	bufferevent_event_cb	 eventcb;
	void			*arg;

	bufferevent_getcb(r->n->bev, NULL, NULL, &eventcb, &arg);
	if (eventcb != NULL && arg != NULL)
		evhttp_connection_free(arg);
}

/* A deadline passed: 408 and the close, or the linger's close. */
static void
nulscan_deadline(struct nulscan_run *r)
{
	static __thread struct log_limit	 lim;
	unsigned long				 held;
	int					 head;

	if (r->phase == NULSCAN_CLOSE) {
		nulscan_close(r);	/* r may be gone */
		return;
	}
	head = r->phase == NULSCAN_HEAD;
	nulscan_refuse(r, nulscan_408, sizeof(nulscan_408) - 1);
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
nulscan_overflow(struct nulscan_run *r, size_t len)
{
	static __thread struct log_limit	 lim;
	unsigned long				 held;

	nulscan_refuse(r, nulscan_413, sizeof(nulscan_413) - 1);
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_info("a client's request holds %zu unparsed bytes, more "
		    "than max_header_size + max_body_size allow: 413 and "
		    "closed%s", len, held > 0 ? " (and more not logged)" : "");
}

/* A request line without a valid version: 400 and the close. */
static void
nulscan_bad_version(struct nulscan_run *r)
{
	static __thread struct log_limit	 lim;
	unsigned long				 held;

	nulscan_refuse(r, nulscan_400, sizeof(nulscan_400) - 1);
	if (log_limit_pass(&lim, sluice_now_ms(), &held))
		log_info("a client's request line has no valid HTTP version "
		    "(HTTP/DIGIT.DIGIT): 400 and closed%s", held > 0 ?
		    " (and more not logged)" : "");
}

/* Run the deadline of phase (NULSCAN_HEAD or _BODY) from now. */
static void
nulscan_arm(struct nulscan_run *r, int phase)
{
	r->phase = phase;
	nulscan_clock_add(r, phase == NULSCAN_HEAD ? r->n->lim->head_ms :
	    r->n->lim->body_ms);
}

/* No deadline runs on r. */
static void
nulscan_disarm(struct nulscan_run *r)
{
	if (r->refused)
		return;
	nulscan_unclock(r);
	r->phase = 0;
}

/*
 * Whether the request line whose last bytes r keeps ends in a version of
 * the grammar (RFC 9112 2.3: "HTTP/" DIGIT "." DIGIT, after one SP).
 * evhttp reads "HTTP/%d.%d" and answers its own errors in the version it
 * read, "HTTP/1.-103" for "HTTP/1.921": such a line never reaches it.
 */
static int
nulscan_version_ok(const struct nulscan_run *r)
{
	unsigned char	 t[NULSCAN_TAIL];
	size_t		 i, len = r->tlen < NULSCAN_TAIL ? r->tlen :
			    NULSCAN_TAIL;

	for (i = 0; i < len; i++)	/* the ring, oldest byte first */
		t[i] = r->tail[(r->tlen - len + i) % NULSCAN_TAIL];
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
nulscan_tail_add(struct nulscan_run *r, const unsigned char *p, size_t len)
{
	size_t	skip = len > NULSCAN_TAIL ? len - NULSCAN_TAIL : 0;

	r->tlen += (uint32_t)skip;
	for (p += skip, len -= skip; len > 0; len--)
		r->tail[r->tlen++ % NULSCAN_TAIL] = *p++;
}

/*
 * Scan len bytes of a head: stop at its end, a LF after a LF with only
 * CRs between (an empty line). A line at a time: memchr finds its LF and
 * any NUL in it, which costs a few instructions a line rather than a few
 * branches a byte (the model in tests/fuzz/fuzz_nulscan.c is the byte at
 * a time reading this must agree with).
 */
static void
nulscan_bytes(struct nulscan_run *r, const unsigned char *p, size_t len)
{
	const unsigned char	*end = p + len, *lf, *stop;

	if (len > 0 && r->scanning)
		r->started = 1;
	while (p < end && r->scanning) {
		if (r->nl) {
			while (p < end && *p == '\r')
				p++;
			if (p == end)
				break;
			if (*p == '\n') {
				r->scanning = 0;	/* head complete */
				break;
			}
			r->nl = 0;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		stop = lf != NULL ? lf : end;
		if (memchr(p, '\0', (size_t)(stop - p)) != NULL)
			r->found = 1;
		if (!r->line1)
			nulscan_tail_add(r, p, (size_t)(stop - p));
		if (lf == NULL)
			break;
		if (!r->line1) {
			r->line1 = 1;
			r->badver = !nulscan_version_ok(r);
		}
		r->nl = 1;
		p = lf + 1;
	}
}

/*
 * Scan buf from offset off on, while inside a head; a head's first byte
 * starts its deadline, its end the body's.
 */
static void
nulscan_buffer(struct nulscan_run *r, struct evbuffer *buf, size_t off)
{
	int	started = r->started;

	nulscan_buffer_scan(r, buf, off);
	if (r->badver && !r->refused) {
		nulscan_bad_version(r);
		return;
	}
	if (!started && r->started && r->scanning)
		nulscan_arm(r, NULSCAN_HEAD);
	if (!r->scanning && (started || r->started) && r->phase !=
	    NULSCAN_BODY && !r->refused)
		nulscan_arm(r, NULSCAN_BODY);
}

/* nulscan_buffer's scan. */
static void
nulscan_buffer_scan(struct nulscan_run *r, struct evbuffer *buf, size_t off)
{
	struct evbuffer_ptr	 ptr;
	struct evbuffer_iovec	 v[8];
	int			 i, nv;

	while (r->scanning && off < evbuffer_get_length(buf)) {
		if (evbuffer_ptr_set(buf, &ptr, off, EVBUFFER_PTR_SET) == -1)
			return;
		nv = evbuffer_peek(buf, -1, &ptr, v, 8);
		if (nv <= 0)
			return;
		if (nv > 8)
			nv = 8;
		for (i = 0; i < nv && r->scanning; i++) {
			nulscan_bytes(r, v[i].iov_base, v[i].iov_len);
			off += v[i].iov_len;
		}
	}
}

/*
 * A client pipelines behind the request being handled: what it sends
 * stays bounded until the answer is out (evhttp keeps reading while it
 * writes, so a client that sends requests sluice answers itself and reads
 * nothing would fill memory). A read watermark, set on the few
 * connections that pipeline: libevent allocates its callback at the
 * first one, and keeps it.
 */
static void
nulscan_hold_back(struct nulscan_run *r)
{
	if (r->n->lim->pipeline == 0)
		return;
	r->held_back = 1;
	bufferevent_setwatermark(r->n->bev, EV_READ, 0, r->n->lim->pipeline);
}

/* Bytes were added to a client's input: scan the new ones. */
static void
nulscan_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct nulscan		*n = arg;
	struct nulscan_run	*r = n->run;
	size_t			 len;

	if (info->n_added == 0)
		return;
	if (r == NULL && n->lim->divert != NULL && n->lim->divert(n))
		return;			/* not evhttp's any more */
	len = evbuffer_get_length(buf);
	if (r == NULL && (r = nulscan_run_take(n)) == NULL)
		return;			/* out of memory: not watched */
	if (r->refused) {
		evbuffer_drain(buf, len);
		return;
	}
	if (r->phase != 0 && n->lim->max_input > 0 &&
	    len > n->lim->max_input) {
		nulscan_overflow(r, len);
		return;
	}
	if (r->phase == NULSCAN_BODY)
		nulscan_body_bytes(r, info->n_added);
	if (r->scanning)
		nulscan_buffer(r, buf, len - info->n_added);
	else if (r->phase == 0 && !r->held_back)
		nulscan_hold_back(r);
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
	lim->pipeline = cl->max_header_size + NULSCAN_SLACK;
}

/* See nulscan.h. */
int
nulscan_attach(struct nulscan *n, struct bufferevent *bev,
    const struct nulscan_limits *lim)
{
	n->bev = bev;
	n->run = NULL;
	if (evbuffer_add_cb(bufferevent_get_input(bev), nulscan_cb,
	    n) == NULL)
		return -1;
	n->lim = lim;
	return 0;
}

/* See nulscan.h. */
int
nulscan_found(const struct nulscan *n)
{
	return n->run != NULL && n->run->found;
}

/* See nulscan.h. Pipelined bytes already buffered are scanned now. */
void
nulscan_next(struct nulscan *n)
{
	struct evbuffer		*in;
	struct nulscan_run	*r = n->run;

	if (n->lim == NULL || (r != NULL && r->refused))
		return;
	if (r != NULL && r->held_back)
		bufferevent_setwatermark(n->bev, EV_READ, 0, 0);
	nulscan_run_give(n);
	in = bufferevent_get_input(n->bev);
	if (evbuffer_get_length(in) > 0 && (r = nulscan_run_take(n)) != NULL)
		nulscan_buffer(r, in, 0);
}

/* See nulscan.h. */
void
nulscan_dispatched(struct nulscan *n)
{
	struct nulscan_run	*r = n->run;

	if (r == NULL)
		return;
	nulscan_disarm(r);
	/* the same read brought more than this request */
	if (!r->refused && !r->held_back && evbuffer_get_length(
	    bufferevent_get_input(n->bev)) > 0)
		nulscan_hold_back(r);
}

/* See nulscan.h. */
void
nulscan_forget(struct nulscan *n)
{
	if (n->lim == NULL)
		return;
	nulscan_run_give(n);
	evbuffer_remove_cb(bufferevent_get_input(n->bev), nulscan_cb, n);
	n->lim = NULL;
}

/* See nulscan.h. */
void
nulscan_free(void)
{
	while (nspare > 0)
		free(spare[--nspare]);
	while (nclocks > 0) {
		event_free(clocks[--nclocks]->ev);
		free(clocks[nclocks]);
	}
	if (wait_ev != NULL)
		event_free(wait_ev);
	wait_ev = NULL;
}
