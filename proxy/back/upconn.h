/*
 * upconn: one HTTP/1.1 client connection to a server, our own (libevent
 * 2.1's evhttp client cannot do what a proxy needs; see
 * doc/ARCHITECTURE.md).
 *
 * Owned by the server's pool while idle and by one exchange while busy.
 * It writes one request, parses the response head strictly, delivers the
 * body de-framed, and knows whether the connection may be reused.
 * Timeouts follow nginx: connect_timeout for the TCP handshake;
 * write_timeout between two successive writes of the request;
 * read_timeout between two successive reads once the request is sent.
 */
#ifndef SLUICE_BACK_UPCONN_H
#define SLUICE_BACK_UPCONN_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct http1_response;
struct server;
struct upconn;

/* Why an exchange on an upstream connection failed. */
enum upconn_error {
	UPCONN_ERR_CONNECT = 1,		/* refused, unreachable */
	UPCONN_ERR_CONNECT_TIMEOUT,
	UPCONN_ERR_WRITE,		/* reset or closed while sending */
	UPCONN_ERR_WRITE_TIMEOUT,
	UPCONN_ERR_READ,		/* closed or reset before the end */
	UPCONN_ERR_READ_TIMEOUT,
	UPCONN_ERR_PROTOCOL,		/* malformed response */
};

/*
 * What the exchange hears. Each is called from the connection's event
 * callbacks; any of them may call upconn_release(), after which no further
 * callback comes.
 */
struct upconn_cbs {
	/* The final response head (1xx already skipped). */
	void	(*head)(void *arg, const struct http1_response *);
	/* Body bytes, de-chunked. The callee drains data. */
	void	(*body)(void *arg, struct evbuffer *data);
	/* The body is complete; reusable says whether the connection may
	 * go back to the pool. */
	void	(*done)(void *arg, int reusable);
	/* The exchange failed; the connection must be released unusable.
	 * why is a short static text for the error log. */
	void	(*error)(void *arg, enum upconn_error, const char *why);
	/* After a 101 head (UPCONN_REQ_UPGRADE): the connection is now a
	 * byte stream; take it with upconn_detach(). NULL: not wanted. */
	void	(*upgraded)(void *arg);
};

/* upconn_get flags. */
#define UPCONN_GET_SAFE		0x01	/* the request must not be repeated:
					 * no pooled connection idle past the
					 * server's safe age (idleclose.h) */

/*
 * Take a connection to srv: a pooled one that is still alive, or a new,
 * unconnected one. The caller owns it until upconn_release(). Returns NULL
 * when out of memory.
 */
struct upconn	*upconn_get(struct server *srv, int flags);

/* A new connection to srv, never one from the pool (health checks). */
struct upconn	*upconn_get_fresh(struct server *srv);

/* Use ms for the connect, read and write timeouts instead of srv's. */
void		 upconn_set_timeout(struct upconn *, uint64_t ms);

/* 1 when any byte of a response has arrived on this request. */
int		 upconn_response_started(const struct upconn *);

/* upconn_request flags. */
#define UPCONN_REQ_HEAD		0x01	/* a HEAD: no body follows the head */
#define UPCONN_REQ_UPGRADE	0x04	/* it asks to upgrade: a 101 ends
					 * HTTP on this connection */
#define UPCONN_REQ_KEEP		0x02	/* reference req, leave it intact
					 * (kept for a retry; it must not
					 * change while referenced) */

/*
 * Send the request in req (drained unless UPCONN_REQ_KEEP) and start
 * reading the response. Connects first when the connection is new.
 * Returns 0, or -1 when the connection could not even be attempted (the
 * caller then releases it).
 */
int		 upconn_request(struct upconn *, struct evbuffer *req,
		    int flags, const struct upconn_cbs *, void *arg);

/* Stop reading from the server (the client is slow), and start again. */
void		 upconn_pause(struct upconn *);
void		 upconn_resume(struct upconn *);

/* 1 when the connection came from the pool (it served a request before). */
int		 upconn_reused(const struct upconn *);

/* 1 when the whole request has been handed to the kernel. */
int		 upconn_request_sent(const struct upconn *);

/*
 * Give the connection back: to the pool when reusable and the server is
 * active and the pool has room, else closed. No callback follows.
 */
void		 upconn_release(struct upconn *, int reusable);

/*
 * Take the bufferevent out of an upgraded connection (from the upgraded
 * callback): its input holds what the server sent after the 101 head. The
 * caller owns and frees it; the connection is gone.
 */
struct bufferevent;
struct bufferevent *upconn_detach(struct upconn *);

/* Close this worker's idle connections to srv. */
void		 upconn_close_idle(struct server *srv);

/* Close the idle connections to srv in every worker (main thread). */
void		 upconn_close_idle_all(struct server *srv);

#endif
