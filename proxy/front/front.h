/*
 * front: the client side of one exchange, whatever protocol carries it.
 *
 * The exchange (proxy/exchange.c) routes, forwards, retries, drains and
 * logs; it reads the request and writes the response only through a
 * struct front, which one implementation per client protocol fills:
 * HTTP/1.1 on evhttp (front/h1.c), HTTP/2 on nghttp2. The request arrives
 * whole (head, and the body evhttp or the stream buffered, bounded by the
 * listener's limits); the response leaves as a whole answer of sluice's
 * own, or as a head, body pieces and an end.
 *
 * The implementation tells the exchange three things, by the functions
 * exchange.h declares for it: the response's last byte went to the kernel
 * (exchange_sent), the client left or reset the request
 * (exchange_client_gone), and output that had been over the high mark
 * drained (exchange_drained). exchange_sent and exchange_client_gone end
 * the exchange; end and cut may call them before they return, so a call
 * to either is the last thing a caller does with the exchange.
 *
 * Headers are libevent's public list type (struct evkeyvalq, edited with
 * evhttp_add_header and its kin), which works on any list, not only
 * evhttp's.
 */
#ifndef SLUICE_FRONT_FRONT_H
#define SLUICE_FRONT_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#include "proxy/front/clientconn.h"

struct bufferevent;
struct clientconn;
struct evbuffer;
struct evhttp_uri;
struct evkeyvalq;
struct exchange;
struct front;

struct front_ops {
	const char	*name;		/* "h1", "h2": debug logs */
	int		 multiplexed;	/* HTTP/2: requests share the
					 * connection; no Connection header,
					 * no HTTP/1 version rules, no
					 * Upgrade */
	/* the exchange took the front: hear from the client from now */
	void	(*begin)(struct front *);
	/* the exchange is finishing: no callback after this */
	void	(*release)(struct front *);
	/* the whole answer; body NULL: none */
	void	(*reply)(struct front *, int code, const char *reason,
		    struct evbuffer *body);
	/* the response head (out); the client must take each write within
	 * timeout_ms */
	void	(*start)(struct front *, int code, const char *reason,
		    uint64_t timeout_ms);
	/* body bytes (data is emptied); 1 when the client's queue went over
	 * the high mark: pause until exchange_drained */
	int	(*body)(struct front *, struct evbuffer *data);
	/* the response is complete (exchange_sent follows, maybe now) */
	void	(*end)(struct front *);
	/* cut the response short so the client sees it
	 * (exchange_client_gone follows, maybe now) */
	void	(*cut)(struct front *);
	/* while the upstream works, notice a client that leaves */
	void	(*watch)(struct front *);
	/* after a 101: the client's byte stream for a tunnel; NULL when
	 * the protocol has none (the exchange then cuts) */
	struct bufferevent *(*takeover)(struct front *);
	/* the tunnel ended: close the connection (exchange_client_gone
	 * follows) */
	void	(*close)(struct front *);
};

struct front {
	const struct front_ops	*ops;
	void			*impl;		/* the implementation's
						 * request (NULL once it
						 * let go of it) */
	struct exchange		*ex;		/* set by exchange_start */
	struct clientconn	*client;	/* the connection: peer,
						 * TLS details */
	struct evkeyvalq	*in;		/* request headers (the
						 * exchange edits them) */
	struct evkeyvalq	*out;		/* response headers */
	struct evbuffer		*body;		/* the request body, whole */
	const char		*uri;		/* the target as received */
	const struct evhttp_uri	*u;		/* it parsed; NULL: could
						 * not be */
	enum evhttp_cmd_type	 cmd;
	int			 major;		/* the version as parsed
						 * (HTTP/2: 2.0) */
	int			 minor;
	int			 full;		/* implementation's: output
						 * left queued */
	uint64_t		 idle_ms;	/* implementation's: the
						 * keep-alive time after */
	struct clientconn_user	 user;		/* h1: on its connection */
};

#endif
