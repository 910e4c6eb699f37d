/*
 * tunnel: two bufferevents joined into one byte pipe.
 *
 * Closing follows TCP: when one side sends FIN, what it sent is delivered,
 * then FIN goes to the other side (shutdown SHUT_WR), whose bytes keep
 * flowing back until it closes too. The tunnel ends when both sides have
 * closed and everything is delivered, or at the first error, or when no
 * byte has passed either way for the idle time.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/base/runtime.h"
#include "proxy/tunnel.h"

#define TUNNEL_MAGIC	0x54554e4eu	/* "TUNN" */
#define TUNNEL_HIGH	(256 * 1024)	/* queued for a side: pause */

struct tunnel {
	unsigned		 magic;
	struct bufferevent	*side[2];	/* 0: client, 1: server */
	int			 eof[2];	/* the side sent FIN */
	int			 shut[2];	/* we sent FIN to the side */
	int			 first;		/* the side that closed first */
	struct timeval		 idle;
	struct event		*idle_ev;	/* no byte either way */
	struct event		*done_ev;	/* done is called from here */
	int			 ended;
	enum tunnel_end		 end;
	void			(*done)(void *, enum tunnel_end);
	void			*arg;
};

static void	tunnel_read_cb(struct bufferevent *, void *);
static void	tunnel_write_cb(struct bufferevent *, void *);
static void	tunnel_event_cb(struct bufferevent *, short, void *);

/* 0 for the client side, 1 for the server side. */
static int
tunnel_index(const struct tunnel *t, const struct bufferevent *bev)
{
	return bev == t->side[1];
}

/* Stop everything and call done from the loop (not under bev callbacks). */
static void
tunnel_finish(struct tunnel *t, enum tunnel_end end)
{
	if (t->ended)
		return;
	t->ended = 1;
	t->end = end;
	bufferevent_disable(t->side[0], EV_READ | EV_WRITE);
	bufferevent_disable(t->side[1], EV_READ | EV_WRITE);
	evtimer_del(t->idle_ev);
	event_active(t->done_ev, EV_TIMEOUT, 0);
}

/* The deferred end. */
static void
tunnel_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel	*t = arg;

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	t->done(t->arg, t->end);
}

/* Nothing passed either way for the idle time. */
static void
tunnel_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel	*t = arg;

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	tunnel_finish(t, TUNNEL_TIMEOUT);
}

/* Both sides closed and everything is delivered: the end. */
static void
tunnel_check_end(struct tunnel *t)
{
	if (t->eof[0] && t->eof[1] &&
	    evbuffer_get_length(bufferevent_get_output(t->side[0])) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(t->side[1])) == 0)
		tunnel_finish(t, t->first == 0 ? TUNNEL_CLIENT_CLOSED :
		    TUNNEL_SERVER_CLOSED);
}

/* Pass the FIN of the other side on to side i once its output is out. */
static void
tunnel_pass_fin(struct tunnel *t, int i)
{
	if (!t->eof[!i] || t->shut[i] ||
	    evbuffer_get_length(bufferevent_get_output(t->side[i])) > 0)
		return;
	shutdown(bufferevent_getfd(t->side[i]), SHUT_WR);
	t->shut[i] = 1;
}

/* Move what from has read to the other side; pause from when it lags. */
static void
tunnel_pass(struct tunnel *t, struct bufferevent *from)
{
	struct bufferevent	*to = t->side[!tunnel_index(t, from)];
	struct evbuffer		*in = bufferevent_get_input(from);
	struct evbuffer		*out = bufferevent_get_output(to);

	if (evbuffer_get_length(in) == 0)
		return;
	evtimer_add(t->idle_ev, &t->idle);
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) > TUNNEL_HIGH) {
		bufferevent_disable(from, EV_READ);
		bufferevent_setwatermark(to, EV_WRITE, TUNNEL_HIGH / 2, 0);
	}
}

/* Bytes arrived on one side. */
static void
tunnel_read_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel	*t = arg;

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	tunnel_pass(t, bev);
}

/* A side's output drained below its mark: resume, pass a FIN, or end. */
static void
tunnel_write_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel	*t = arg;
	int		 i = tunnel_index(t, bev);

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	evtimer_add(t->idle_ev, &t->idle);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	if (!t->eof[!i])
		bufferevent_enable(t->side[!i], EV_READ);
	tunnel_pass_fin(t, i);
	tunnel_check_end(t);
}

/* Side i sent FIN: deliver its bytes, then pass the FIN on. */
static void
tunnel_half_close(struct tunnel *t, int i)
{
	if (!t->eof[0] && !t->eof[1])
		t->first = i;
	t->eof[i] = 1;
	tunnel_pass(t, t->side[i]);
	bufferevent_disable(t->side[i], EV_READ);
	bufferevent_setwatermark(t->side[!i], EV_WRITE, 0, 0);
	tunnel_pass_fin(t, !i);
	tunnel_check_end(t);
}

/* A side closed or failed. */
static void
tunnel_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel	*t = arg;
	int		 i;

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	i = tunnel_index(t, bev);
	if ((what & BEV_EVENT_EOF) && !t->eof[i])
		tunnel_half_close(t, i);
	else if (what & BEV_EVENT_ERROR)
		tunnel_finish(t, (t->eof[0] || t->eof[1]) ? (t->first == 0 ?
		    TUNNEL_CLIENT_CLOSED : TUNNEL_SERVER_CLOSED) : i == 0 ?
		    TUNNEL_CLIENT_ERROR : TUNNEL_SERVER_ERROR);
}

/* Set up one side: our callbacks, no bufferevent timeouts (ours is the
 * idle timer), no watermarks. */
static void
tunnel_side_init(struct tunnel *t, int i)
{
	bufferevent_setwatermark(t->side[i], EV_READ, 0, 0);
	bufferevent_setwatermark(t->side[i], EV_WRITE, 0, 0);
	bufferevent_setcb(t->side[i], tunnel_read_cb, tunnel_write_cb,
	    tunnel_event_cb, t);
	bufferevent_set_timeouts(t->side[i], NULL, NULL);
	bufferevent_enable(t->side[i], EV_READ | EV_WRITE);
}

/* See tunnel.h. */
struct tunnel *
tunnel_new(struct bufferevent *client, struct bufferevent *server,
    const struct timeval *idle, void (*done)(void *, enum tunnel_end),
    void *arg)
{
	struct tunnel	*t;
	int		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->done_ev = event_new(sluice_base, -1, 0, tunnel_done_cb,
	    t)) == NULL ||
	    (t->idle_ev = evtimer_new(sluice_base, tunnel_idle_cb, t)) ==
	    NULL) {
		if (t != NULL && t->done_ev != NULL)
			event_free(t->done_ev);
		free(t);
		bufferevent_free(server);
		return NULL;
	}
	t->magic = TUNNEL_MAGIC;
	t->side[0] = client;
	t->side[1] = server;
	t->idle = *idle;
	t->done = done;
	t->arg = arg;
	evtimer_add(t->idle_ev, &t->idle);
	for (i = 0; i < 2; i++)
		tunnel_side_init(t, i);
	for (i = 0; i < 2; i++)
		tunnel_pass(t, t->side[i]);
	return t;
}

/* See tunnel.h. */
void
tunnel_free(struct tunnel *t)
{
	if (t == NULL)
		return;
	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	/* the client's bufferevent is evhttp's and may outlive us */
	bufferevent_setcb(t->side[0], NULL, NULL, NULL, NULL);
	bufferevent_free(t->side[1]);
	event_free(t->idle_ev);
	event_free(t->done_ev);
	t->magic = 0;
	free(t);
}
