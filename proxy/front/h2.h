/*
 * h2: the HTTP/2 front (front.h) on nghttp2, for TLS connections whose
 * ALPN chose "h2".
 *
 * evhttp accepts every connection of a listener and makes its
 * evhttp_connection before the handshake; an h2 one is taken from it at
 * its first decrypted bytes, before evhttp's read callback sees them (the
 * NUL scanner's input callback runs first: listener.c), by installing the
 * session's callbacks on the bufferevent. The evhttp_connection stays
 * behind, idle, as a husk that owns the bufferevent and the socket
 * (freeing it would shut the socket down for writing, whatever the
 * bufferevent's options: http.c:1264), until the session ends; its close
 * callback (the client record's, clientconn.h) tells the session if evhttp
 * frees it first (evhttp_free, a listener closing). doc/ARCHITECTURE.md
 * says why this is safe.
 *
 * Each stream whose request is whole (head, and body bounded by
 * max_body_size) becomes an exchange in the listener's generation of that
 * moment; its response streams back with backpressure.
 */
#ifndef SLUICE_FRONT_H2_H
#define SLUICE_FRONT_H2_H

struct bufferevent;
struct clientconn;
struct conf_listener;
struct evhttp_connection;
struct front;

/* Start an exchange for f (see exchange_start); -1: none started. */
typedef int	h2_start_fn(void *arg, const struct front *f);

/*
 * Learn evhttp's connection callbacks (from a connection of our own,
 * never connected), against which a connection to divert is checked;
 * once per process (later calls say what the first found). -1 when evhttp's
 * bufferevent callbacks cannot be recognised (then nothing is diverted).
 */
int	h2_learn(void);

/* The evhttp connection of bev, when its callbacks are evhttp's; NULL. */
struct evhttp_connection *h2_evcon(struct bufferevent *bev);

/* 1 when bev's handshake chose h2 (its ALPN). */
int	h2_alpn_chosen(struct bufferevent *bev);

/*
 * Take the connection of client c (bufferevent bev, evhttp connection
 * evcon, which are checked) from evhttp and serve it as HTTP/2 with the
 * settings of cl (copied); each request is handed to start(arg). 0, or -1
 * when it cannot be taken (out of memory, callbacks not evhttp's): evhttp
 * keeps it and will answer the preface with a 400.
 */
int	h2_divert(struct bufferevent *bev, struct evhttp_connection *evcon,
	    struct clientconn *c, const struct conf_listener *cl,
	    h2_start_fn *start, void *arg);

/*
 * Shutdown notice on every HTTP/2 connection of this worker, idle or
 * busy: GOAWAY with the largest stream id at once, then, after a round
 * trip (a PING answered, or H2_GOAWAY_WAIT_MS), GOAWAY with the last
 * stream id taken; the connection closes when its last stream ends.
 */
void	h2_goaway_all(void);

/* End every HTTP/2 connection of this worker (the hard stop): nothing
 * more is read, what is queued is sent, then each closes. */
void	h2_close_all(void);

#endif
