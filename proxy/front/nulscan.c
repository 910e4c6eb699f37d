/*
 * nulscan: watching request heads for NUL bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "proxy/front/nulscan.h"
#include "proxy/base/ptrmap.h"

#define NULSCAN_MAX	65536		/* entries kept, at most */

/* One connection's scan state. */
struct nulscan {
	struct bufferevent	*bev;
	int			 scanning;	/* inside a request head */
	int			 nl;		/* the head ends at a 2nd LF */
	int			 found;		/* a NUL in this head */
	unsigned long		 seq;		/* age, for reclaiming */
};

static __thread struct ptrmap	 map;	/* bufferevent -> state; per worker */
static __thread unsigned long	 seq;

/* Remove and free n. */
static void
nulscan_remove(struct nulscan *n)
{
	ptrmap_del(&map, n->bev);
	free(n);
}

/* Drop the oldest entry: a connection that closed before any request. */
static void
nulscan_reclaim(void)
{
	struct nulscan	*n, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < map.size; i++)
		if ((n = map.slots[i].value) != NULL &&
		    (oldest == NULL || n->seq < oldest->seq))
			oldest = n;
	if (oldest != NULL)
		nulscan_remove(oldest);
}

/* Scan len bytes of a head: stop at its end (an empty line). */
static void
nulscan_bytes(struct nulscan *n, const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len && n->scanning; i++) {
		if (p[i] == '\0')
			n->found = 1;
		if (p[i] == '\n') {
			if (n->nl)
				n->scanning = 0;	/* head complete */
			n->nl = 1;
		} else if (p[i] != '\r')
			n->nl = 0;
	}
}

/* Scan buf from offset off on, while inside a head. */
static void
nulscan_buffer(struct nulscan *n, struct evbuffer *buf, size_t off)
{
	struct evbuffer_ptr	 ptr;
	struct evbuffer_iovec	 v[8];
	int			 i, nv;

	while (n->scanning && off < evbuffer_get_length(buf)) {
		if (evbuffer_ptr_set(buf, &ptr, off, EVBUFFER_PTR_SET) == -1)
			return;
		nv = evbuffer_peek(buf, -1, &ptr, v, 8);
		if (nv <= 0)
			return;
		if (nv > 8)
			nv = 8;
		for (i = 0; i < nv && n->scanning; i++) {
			nulscan_bytes(n, v[i].iov_base, v[i].iov_len);
			off += v[i].iov_len;
		}
	}
}

/* Bytes were added to a client's input: scan the new ones. */
static void
nulscan_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct nulscan	*n;
	size_t		 len;

	if (info->n_added == 0 || (n = ptrmap_get(&map, arg)) == NULL ||
	    !n->scanning)
		return;
	len = evbuffer_get_length(buf);
	nulscan_buffer(n, buf, len - info->n_added);
}

/* See nulscan.h. */
int
nulscan_attach(struct bufferevent *bev)
{
	struct nulscan	*n;

	/* a dead one's address */
	if ((n = ptrmap_get(&map, bev)) != NULL)
		nulscan_remove(n);
	if (map.count >= NULSCAN_MAX)
		nulscan_reclaim();
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	n->bev = bev;
	n->scanning = 1;
	n->seq = ++seq;
	if (ptrmap_put(&map, bev, n) == -1) {
		free(n);
		return -1;
	}
	if (evbuffer_add_cb(bufferevent_get_input(bev), nulscan_cb,
	    bev) == NULL) {
		nulscan_remove(n);
		return -1;
	}
	return 0;
}

/* See nulscan.h. */
int
nulscan_found(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	return n != NULL && n->found;
}

/* See nulscan.h. Pipelined bytes already buffered are scanned now. */
void
nulscan_next(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	if (n == NULL)
		return;
	n->scanning = 1;
	n->nl = 0;
	n->found = 0;
	nulscan_buffer(n, bufferevent_get_input(bev), 0);
}

/* See nulscan.h. */
void
nulscan_forget(struct bufferevent *bev)
{
	struct nulscan	*n = ptrmap_get(&map, bev);

	if (n != NULL)
		nulscan_remove(n);
}

/* See nulscan.h. */
void
nulscan_free(void)
{
	size_t	i;

	for (i = 0; i < map.size; i++)
		free(map.slots[i].value);
	ptrmap_free(&map);
}
