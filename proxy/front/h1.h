/*
 * h1: the HTTP/1.1 front (front.h) on evhttp. A request evhttp parsed
 * whole becomes an exchange; the response goes out through evhttp's
 * reply calls, written at once while the client keeps up.
 */
#ifndef SLUICE_FRONT_H1_H
#define SLUICE_FRONT_H1_H

struct clientconn;
struct evhttp_request;
struct gen;
struct gen_listener;

/*
 * Start an exchange for req, which arrived on the client connection c of
 * the listener gl of generation g.
 */
void	h1_request(struct evhttp_request *req, struct clientconn *c,
	    struct gen *g, struct gen_listener *gl);

#endif
