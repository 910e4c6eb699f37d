/*
 * tunnel: after a 101 Switching Protocols, the client connection and the
 * server connection become one byte pipe in both directions, with
 * backpressure (a slow side pauses reading from the other) and an idle
 * timeout. When either side closes, what it sent is delivered to the
 * other before both close.
 */
#ifndef SLUICE_TUNNEL_H
#define SLUICE_TUNNEL_H

#include <sys/time.h>

struct bufferevent;
struct tunnel;

/* How a tunnel ended. */
enum tunnel_end {
	TUNNEL_CLIENT_CLOSED = 0,	/* the client closed (clean) */
	TUNNEL_SERVER_CLOSED,		/* the server closed (clean) */
	TUNNEL_CLIENT_ERROR,
	TUNNEL_SERVER_ERROR,
	TUNNEL_TIMEOUT,			/* idle for the tunnel timeout */
};

/*
 * Join client (owned by evhttp, which frees it) and server (owned by the
 * tunnel from now on). Bytes already in either input are passed on. done
 * is called once, from the loop, when the tunnel has ended; the caller
 * then closes the client connection and frees the tunnel. NULL when out
 * of memory (server is then freed).
 */
struct tunnel	*tunnel_new(struct bufferevent *client,
		    struct bufferevent *server, const struct timeval *idle,
		    void (*done)(void *arg, enum tunnel_end), void *arg);

/* Free the tunnel and the server connection; no callback follows. */
void		 tunnel_free(struct tunnel *);

#endif
