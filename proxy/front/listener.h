/*
 * listener: one evhttp server per listen address. A listener outlives
 * generations: a reload that keeps its address keeps its socket and only
 * points it at the new generation's routing table.
 */
#ifndef SLUICE_FRONT_LISTENER_H
#define SLUICE_FRONT_LISTENER_H

#include <sys/queue.h>

#include "conf/conf.h"
#include "proxy/base/log.h"

struct event;
struct evhttp;
struct evhttp_bound_socket;
struct gen;
struct gen_listener;

#define LISTENER_MAGIC	0x4c53544eu	/* "LSTN" */
#define LISTENER_SLOT_MAGIC 0x4c534c54u	/* "LSLT" */

/*
 * One worker's part of a listener: its evhttp server, accepting on its own
 * descriptor of the shared listening socket, and the generation it serves.
 * Only that worker's thread touches it.
 */
struct listener_slot {
	unsigned			 magic;
	struct listener			*l;
	struct evhttp			*http;	/* NULL: not serving here */
	struct evhttp_bound_socket	*bound;	/* NULL once closed */
	struct gen			*gen;	/* referenced; NULL: none yet */
	struct gen_listener		*gl;	/* its entry in gen */
	struct log_limit		 tls_log;	/* "cannot set up
							 * TLS" lines */
	struct log_limit		 accept_log;	/* "cannot accept" */
	struct event			*resume_ev;	/* paused: retry */
	int				 paused;	/* why not accepting
							 * (0: accepting) */
	TAILQ_ENTRY(listener_slot)	 entry;	/* the worker's slots */
};

struct listener {
	unsigned			 magic;
	struct conf_addr		 addr;		/* copy */
	struct listener_slot		*slots;	/* one per worker; slot 0,
						 * the main thread's, owns
						 * the listening socket */
	unsigned			 nclients;	/* atomic: client
							 * connections, all
							 * workers */
	struct event			*close_ev;	/* queue-empty retry */
	int				 close_tries;
	int				 closing;	/* close asked */
	/* another process has the socket too: closing ours loses nothing */
	int				 shared;
	TAILQ_ENTRY(listener)		 entry;
};

TAILQ_HEAD(listener_list, listener);

struct bufferevent;
struct event_base;

/*
 * For an evhttp bevcb whose TLS cannot be set up (a NULL bevcb result
 * would serve plain text): a socket bufferevent that serves nothing and
 * shuts the connection down at its first bytes. NULL when even this
 * cannot be made. The admin endpoint uses it too.
 */
struct bufferevent *listener_bev_refuse(struct event_base *base);

/*
 * Bind and listen on cl's address. Returns the listener, not serving
 * anything until listener_serve, or NULL with *err set to a malloc'd
 * message.
 */
struct listener	*listener_open(const struct conf_listener *cl, char **err);

/*
 * Start accepting in every worker (after the reload that opened it has
 * committed). Each worker serves the newest generation it was given with
 * listener_set_gen that lists this address.
 */
void		 listener_serve(struct listener *);

/*
 * This thread's newest generation (takes a reference; drops the one it
 * replaces; NULL drops it). Listeners of this thread serve it from their
 * next connection or request; a listener the generation no longer lists
 * keeps serving the one it had.
 */
void		 listener_set_gen(struct gen *g);

/*
 * Stop accepting: the workers' descriptors close at once, the main one once
 * the connections already in the kernel's queue are accepted; accepted
 * connections stay.
 */
void		 listener_close(struct listener *);

/* 1 once the listening socket is closed. */
int		 listener_closed(const struct listener *);

/* Called (in the main thread) each time a listening socket has closed. */
void		 listener_set_closed_cb(void (*cb)(void));

/*
 * A listening socket on addr: an inherited one (systemd, upgrade) when it
 * matches, else a new one bound with backlog. NULL with errno set.
 */
struct evconnlistener;
struct evconnlistener *listener_socket(const struct conf_addr *addr,
		    int backlog);

/* The listening descriptor, or -1 once closed. */
int		 listener_fd(const struct listener *);

/*
 * Free the listener and every connection it still has, in every worker
 * (the last part from the main loop once the workers are done).
 */
void		 listener_free(struct listener *);

/*
 * A client connection of this worker closed: listeners paused at a limit
 * or for want of descriptors look again (after the current callback).
 */
void		 listener_client_closed(void);

/* In a worker thread that is ending: free its parts of every listener. */
void		 listener_worker_fini(void);

#endif
