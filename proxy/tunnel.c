/*
 * tunnel: two bufferevents joined into one byte pipe.
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/sluice.h"
#include "proxy/tunnel.h"

#define TUNNEL_MAGIC	0x54554e4eu	/* "TUNN" */
#define TUNNEL_HIGH	(256 * 1024)	/* queued for a side: pause */

struct tunnel {
	unsigned		 magic;
	struct bufferevent	*side[2];	/* 0: client, 1: server */
	int			 closing;	/* one side closed: flushing */
	enum tunnel_end		 end;
	struct event		*done_ev;	/* done is called from here */
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
	if (event_pending(t->done_ev, EV_TIMEOUT, NULL))
		return;
	t->end = end;
	bufferevent_disable(t->side[0], EV_READ | EV_WRITE);
	bufferevent_disable(t->side[1], EV_READ | EV_WRITE);
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

/* Move what from has read to the other side; pause from when it lags. */
static void
tunnel_pass(struct tunnel *t, struct bufferevent *from)
{
	struct bufferevent	*to = t->side[!tunnel_index(t, from)];
	struct evbuffer		*out = bufferevent_get_output(to);

	evbuffer_add_buffer(out, bufferevent_get_input(from));
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

/* A side's output drained below its mark: read the other again, or end. */
static void
tunnel_write_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel		*t = arg;
	struct bufferevent	*from = t->side[!tunnel_index(t, bev)];

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	if (t->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			tunnel_finish(t, t->end);
		return;
	}
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(from, EV_READ);
}

/* One side closed cleanly: deliver what it sent, then end. */
static void
tunnel_half_close(struct tunnel *t, struct bufferevent *bev)
{
	int			 i = tunnel_index(t, bev);
	struct bufferevent	*to = t->side[!i];

	tunnel_pass(t, bev);
	t->closing = 1;
	t->end = i == 0 ? TUNNEL_CLIENT_CLOSED : TUNNEL_SERVER_CLOSED;
	bufferevent_disable(bev, EV_READ);
	bufferevent_disable(to, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(to)) == 0)
		tunnel_finish(t, t->end);
	else
		bufferevent_setwatermark(to, EV_WRITE, 0, 0);
}

/* A side closed, failed or stayed idle too long. */
static void
tunnel_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel	*t = arg;
	int		 i;

	SLUICE_MAGIC_CHECK(t, TUNNEL_MAGIC);
	i = tunnel_index(t, bev);
	if (what & BEV_EVENT_TIMEOUT)
		tunnel_finish(t, TUNNEL_TIMEOUT);
	else if ((what & BEV_EVENT_EOF) && !t->closing)
		tunnel_half_close(t, bev);
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		tunnel_finish(t, t->closing ? t->end : i == 0 ?
		    TUNNEL_CLIENT_ERROR : TUNNEL_SERVER_ERROR);
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
	    t)) == NULL) {
		free(t);
		bufferevent_free(server);
		return NULL;
	}
	t->magic = TUNNEL_MAGIC;
	t->side[0] = client;
	t->side[1] = server;
	t->done = done;
	t->arg = arg;
	for (i = 0; i < 2; i++) {
		bufferevent_setwatermark(t->side[i], EV_READ, 0, 0);
		bufferevent_setwatermark(t->side[i], EV_WRITE, 0, 0);
		bufferevent_setcb(t->side[i], tunnel_read_cb, tunnel_write_cb,
		    tunnel_event_cb, t);
		bufferevent_set_timeouts(t->side[i], idle, idle);
		bufferevent_enable(t->side[i], EV_READ | EV_WRITE);
	}
	for (i = 0; i < 2; i++)
		if (evbuffer_get_length(bufferevent_get_input(t->side[i])) > 0)
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
	event_free(t->done_ev);
	t->magic = 0;
	free(t);
}
