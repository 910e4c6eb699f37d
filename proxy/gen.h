/*
 * gen: a generation, one conf plus everything built from it: routing
 * tables and the upstreams' server lists. Reference counted: the current
 * generation holds one reference, every exchange one for the generation it
 * started under. The last reference frees it, deferred to the event loop.
 */
#ifndef SLUICE_GEN_H
#define SLUICE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "proxy/back/upstream.h"

struct server;
struct tls_server;

#define GEN_MAGIC	0x47454e31u	/* "GEN1" */

struct gen_route {
	const char		*host;		/* NULL: any */
	int			 suffix;	/* host is "*.x": match ".x" */
	size_t			 hostlen;	/* of the match text */
	const char		*prefix;	/* strip: no last '/' */
	size_t			 prefixlen;
	int			 strip;		/* the server gets the path
						 * without the prefix */
	const char		*hdr_name;	/* header=NAME:VALUE; NULL:
						 * none */
	const char		*hdr_value;
	const char		*cookie_name;	/* cookie=NAME:VALUE; NULL:
						 * none */
	size_t			 cookie_namelen;
	const char		*cookie_value;
	int			 nconds;	/* conditions: 0..2 */
	int			 line;		/* in the file: ties */
	struct upstream	*up;
};

struct gen_listener {
	const struct conf_listener	*conf;
	struct gen_route		*routes;	/* longest first */
	size_t				 nroutes;
	struct gen_route		 dflt;		/* the listener's
						 * upstream (.up NULL: none) */
	struct tls_server		*tls;		/* NULL: plain */
};

struct gen {
	unsigned		 magic;
	int			 refs;		/* atomic */
	uint64_t		 id;
	struct conf		*conf;		/* owned */
	struct upstream	*ups;
	size_t			 nups;
	struct gen_listener	*lsts;		/* same order as conf */
	size_t			 nlsts;
	struct tls_server	*admin_tls;	/* [admin] tls_certificate;
						 * NULL: plain */
};

/*
 * Build a generation from conf, taking ownership of conf in every case:
 * routing tables, TLS contexts (certificates are read and checked now),
 * and the servers, found or created in the registry. Returns the generation
 * with one reference, or NULL with *errors set to a malloc'd text of one
 * line per error. Nothing outside the generation changes until
 * gen_activate.
 */
struct gen		*gen_new(struct conf *conf, uint64_t id, char **errors);

/*
 * The generation becomes current: its servers take its settings and turn
 * active. -1 when out of memory.
 */
int			 gen_activate(struct gen *);

/*
 * In a worker other than the main one: its copy of the servers' settings
 * becomes g's (gen_activate did the main thread's and everything shared).
 */
void			 gen_activate_local(struct gen *);

/* Take a reference. */
struct gen		*gen_ref(struct gen *);

/* Drop a reference; the last one frees the generation from the loop. */
void			 gen_unref(struct gen *);

/* The generation's listener on this address; NULL if none. */
struct gen_listener	*gen_listener_find(struct gen *,
			    const struct conf_addr *addr);

/*
 * Route a request: host (lower-case, no port; may be NULL) then the longest
 * matching path prefix (a stripped one by whole segments) of path (its
 * dot-segments removed, no query), a route whose conditions hold on the
 * request's headers (hdrs) before one without; else the listener's
 * default (a route with an empty prefix). NULL: no route.
 */
struct evkeyvalq;
const struct gen_route	*gen_route(const struct gen_listener *,
			    const char *host, const char *path,
			    const struct evkeyvalq *hdrs);

/* 1 when srv is listed in g. */
int			 gen_has_server(const struct gen *g,
			    const struct server *srv);

#endif
