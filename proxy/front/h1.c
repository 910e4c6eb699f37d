/*
 * h1: the HTTP/1.1 front on evhttp (h1.h, front.h).
 *
 * evhttp owns the connection and the request; the front hears from it by
 * three callbacks: the request's completion (the last byte went to the
 * kernel), the connection's close (clientconn.h's gone) and a chunk's
 * drain. A request evhttp detached from its connection after a failed
 * write is the front's to free.
 */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>

#include "proxy/exchange.h"
#include "proxy/gen.h"
#include "proxy/base/runtime.h"
#include "proxy/front/clientconn.h"
#include "proxy/front/front.h"
#include "proxy/front/h1.h"
#include "proxy/front/nulscan.h"

#define H1_HIGH_MARK		(256 * 1024)	/* client output: pause */
#define H1_COALESCE_MAX		(16 * 1024)	/* one TLS record */

/* The connection of f's request; NULL once evhttp detached it. */
static struct evhttp_connection *
h1_evcon(const struct front *f)
{
	return f->impl != NULL ? evhttp_request_get_connection(f->impl) :
	    NULL;
}

/* evhttp handed the last response byte to the kernel. */
static void
h1_complete_cb(struct evhttp_request *req, void *arg)
{
	struct front			*f = arg;
	struct evhttp_connection	*evcon;
	struct timeval			 tv;

	/* the connection now waits for the next request: keep-alive time */
	if ((evcon = evhttp_request_get_connection(req)) != NULL) {
		tv = sluice_tv(f->idle_ms);
		bufferevent_set_timeouts(evhttp_connection_get_bufferevent(
		    evcon), &tv, NULL);
		nulscan_next(&f->client->scan);
	}
	f->impl = NULL;
	exchange_sent(f->ex);
}

/* The client connection closed under the request. */
static void
h1_gone(struct clientconn_user *u)
{
	struct front	*f = (struct front *)(void *)((char *)u -
			    offsetof(struct front, user));

	if (f->impl != NULL && h1_evcon(f) == NULL)
		evhttp_request_free(f->impl);
	f->impl = NULL;
	exchange_client_gone(f->ex);
}

static void
h1_begin(struct front *f)
{
	struct evhttp_request	*req = f->impl;

	/*
	 * evhttp flags an absolute-form request as one to a forward proxy:
	 * it would then close the connection after the response unless
	 * Proxy-Connection said keep-alive, and without saying so. As a
	 * reverse proxy's origin-form request it keeps the usual rules.
	 */
	req->flags &= ~EVHTTP_PROXY_REQUEST;
	f->user.gone = h1_gone;
	clientconn_attach(f->client, &f->user);
	evhttp_request_set_on_complete_cb(req, h1_complete_cb, f);
}

static void
h1_release(struct front *f)
{
	clientconn_detach(f->client, &f->user);
	if (f->impl != NULL)
		evhttp_request_set_on_complete_cb(f->impl, NULL, NULL);
}

/*
 * evhttp writes the status line with the request's version: the one the
 * exchange settled on (RFC 9110 2.5: 1.1 for a newer 1.x, 1.1 on a 505),
 * never "HTTP/1.9 200" back.
 */
static void
h1_version(struct front *f)
{
	struct evhttp_request	*req = f->impl;

	req->major = (char)f->major;
	req->minor = (char)f->minor;
}

static void
h1_reply(struct front *f, int code, const char *reason,
    struct evbuffer *body)
{
	h1_version(f);
	evhttp_send_reply(f->impl, code, reason, body);
}

static void
h1_start(struct front *f, int code, const char *reason, uint64_t timeout_ms)
{
	struct evhttp_connection	*evcon;
	struct timeval			 tv;

	h1_version(f);
	evhttp_send_reply_start(f->impl, code, reason);
	/* evhttp arms a read timeout while writing; only writes matter */
	if ((evcon = h1_evcon(f)) != NULL) {
		tv = sluice_tv(timeout_ms);
		bufferevent_set_timeouts(evhttp_connection_get_bufferevent(
		    evcon), NULL, &tv);
	}
}

/*
 * Write what a plain-TCP client's output holds at once, instead of
 * waiting a loop turn for the socket to be reported writable (it nearly
 * always is). When it all goes, evhttp_send_reply_end finds the output
 * empty and finishes the request there, and the write interest added
 * and dropped within this turn costs no epoll_ctl (the changelist
 * cancels the pair). What does not go, or an error, is left to the
 * bufferevent. TLS writes go through OpenSSL.
 */
static void
h1_write_now(struct front *f)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct evbuffer			*out;
	evutil_socket_t			 fd;

	if (clientconn_tls(f->client) || (evcon = h1_evcon(f)) == NULL)
		return;
	bev = evhttp_connection_get_bufferevent(evcon);
	out = bufferevent_get_output(bev);
	if ((fd = bufferevent_getfd(bev)) == -1 ||
	    evbuffer_get_length(out) == 0)
		return;
	/* a socket bufferevent keeps its output's start frozen but for
	 * its own writes; this is one */
	evbuffer_unfreeze(out, 1);
	evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) == 0)
		bufferevent_disable(bev, EV_WRITE);
}

/*
 * A small response still queued whole for a TLS client goes out as one
 * record: libevent's OpenSSL layer writes each buffer chain (head, body)
 * as a record of its own, which costs a write and a record each.
 */
static void
h1_coalesce(struct front *f)
{
	struct evhttp_connection	*evcon;
	struct evbuffer			*out;

	if (!clientconn_tls(f->client) || (evcon = h1_evcon(f)) == NULL)
		return;
	out = bufferevent_get_output(evhttp_connection_get_bufferevent(evcon));
	if (evbuffer_get_length(out) <= H1_COALESCE_MAX)
		evbuffer_pullup(out, -1);
}

/* The client drained its output. */
static void
h1_drained_cb(struct evhttp_connection *evcon, void *arg)
{
	struct front	*f = arg;

	(void)evcon;
	f->full = 0;
	exchange_drained(f->ex);
}

/*
 * Body bytes: written at once while the client keeps up (the last write
 * of ours took everything): waiting for the loop to report the socket
 * writable cost an epoll_wait and two epoll_ctl per upstream read.
 */
static int
h1_body(struct front *f, struct evbuffer *data)
{
	struct evhttp_connection	*evcon;
	size_t				 queued;

	evhttp_send_reply_chunk_with_cb(f->impl, data, h1_drained_cb, f);
	if ((evcon = h1_evcon(f)) == NULL)
		return 0;
	if (!f->full)
		h1_write_now(f);
	queued = evbuffer_get_length(bufferevent_get_output(
	    evhttp_connection_get_bufferevent(evcon)));
	f->full = queued > 0;
	return queued > H1_HIGH_MARK;
}

static void
h1_end(struct front *f)
{
	h1_coalesce(f);
	h1_write_now(f);
	evhttp_send_reply_end(f->impl);		/* may finish the exchange */
}

/*
 * What is queued for a plain-TCP client goes first, so that it sees where
 * the response was cut (evhttp_connection_free drops its output): a cut
 * in the loop turn of the head would otherwise look like no response.
 */
static void
h1_cut(struct front *f)
{
	struct evhttp_connection	*evcon = h1_evcon(f);

	if (evcon == NULL) {		/* evhttp detached it already */
		h1_gone(&f->user);
		return;
	}
	h1_write_now(f);
	evhttp_connection_free(evcon);	/* its close callback: h1_gone */
}

static void
h1_close(struct front *f)
{
	evhttp_connection_free(h1_evcon(f));	/* h1_gone */
}

/* The client connection went away while the upstream worked. */
static void
h1_watch_cb(struct bufferevent *bev, short what, void *arg)
{
	struct front	*f = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		h1_close(f);
}

/*
 * While the upstream works, watch the client connection ourselves: evhttp
 * does not read it then, so a client that leaves would go unnoticed until
 * the upstream answers (like nginx, a close then cancels the upstream
 * request). Bytes the client sends meanwhile (a pipelined request) stay
 * buffered, bounded by the read watermark the NUL scanner set; evhttp
 * installs its own callbacks again when the response starts.
 */
static void
h1_watch(struct front *f)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(
				    h1_evcon(f));

	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_setcb(bev, NULL, NULL, h1_watch_cb, f);
	bufferevent_enable(bev, EV_READ);
}

static struct bufferevent *
h1_takeover(struct front *f)
{
	/* the bytes are the new protocol's now: no request heads to scan */
	nulscan_forget(&f->client->scan);
	return evhttp_connection_get_bufferevent(h1_evcon(f));
}

static const struct front_ops h1_ops = {
	.name = "h1",
	.multiplexed = 0,
	.begin = h1_begin,
	.release = h1_release,
	.reply = h1_reply,
	.start = h1_start,
	.body = h1_body,
	.end = h1_end,
	.cut = h1_cut,
	.close = h1_close,
	.watch = h1_watch,
	.takeover = h1_takeover,
};

/* See h1.h. */
void
h1_request(struct evhttp_request *req, struct clientconn *c, struct gen *g,
    struct gen_listener *gl)
{
	struct front	f = {
		.ops = &h1_ops,
		.impl = req,
		.client = c,
		.in = evhttp_request_get_input_headers(req),
		.out = evhttp_request_get_output_headers(req),
		.body = evhttp_request_get_input_buffer(req),
		.uri = evhttp_request_get_uri(req),
		.u = evhttp_request_get_evhttp_uri(req),
		.cmd = evhttp_request_get_command(req),
		.major = req->major,
		.minor = req->minor,
		.idle_ms = gl->conf->keepalive_timeout_ms,
	};

	if (exchange_start(&f, g, gl) == -1)
		evhttp_connection_free(evhttp_request_get_connection(req));
}
