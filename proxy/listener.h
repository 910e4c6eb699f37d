/*
 * listener: one evhttp server per listen address. A listener outlives
 * generations: a reload that keeps its address keeps its socket and only
 * points it at the new generation's routing table.
 */
#ifndef SLUICE_LISTENER_H
#define SLUICE_LISTENER_H

#include <sys/queue.h>

#include "conf/conf.h"

struct event;
struct evhttp;
struct evhttp_bound_socket;
struct gen;
struct gen_listener;

#define LISTENER_MAGIC	0x4c53544eu	/* "LSTN" */

struct listener {
	unsigned			 magic;
	struct conf_addr		 addr;		/* copy */
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;	/* NULL once closed */
	struct gen			*gen;	/* current; not referenced */
	struct gen_listener		*gl;	/* its entry in gen */
	struct event			*close_ev;	/* queue-empty retry */
	int				 close_tries;
	int				 shared;	/* another process has the
							 * socket too: closing our
							 * copy loses nothing */
	TAILQ_ENTRY(listener)		 entry;
};

TAILQ_HEAD(listener_list, listener);

/*
 * Bind and listen on cl's address. Returns the listener, not yet serving
 * a generation (listener_attach), or NULL with *err set to a malloc'd
 * message.
 */
struct listener	*listener_open(const struct conf_listener *cl, char **err);

/* Serve generation g through its entry gl: settings and routing. */
void		 listener_attach(struct listener *, struct gen *g,
		    struct gen_listener *gl);

/*
 * Stop accepting: close the listening socket once the connections already
 * in the kernel's queue are accepted; accepted connections stay.
 */
void		 listener_close(struct listener *);

/*
 * A listening socket on addr: an inherited one (systemd, upgrade) when it
 * matches, else a new one bound with backlog. NULL with errno set.
 */
struct evconnlistener;
struct evconnlistener *listener_socket(const struct conf_addr *addr,
		    int backlog);

/* The listening descriptor, or -1 once closed. */
int		 listener_fd(const struct listener *);

/* Free the listener and every connection it still has. */
void		 listener_free(struct listener *);

#endif
