/*
 * balance: choosing a server for the next request. Smooth weighted round
 * robin is nginx's (ngx_http_upstream_get_peer without effective_weight);
 * least_conn breaks ties the way ngx_http_upstream_least_conn_module does.
 */
#include <stddef.h>
#include <stdint.h>

#include "proxy/back/balance.h"

/* 1 when p may be picked; a weight below 1 breaks the contract: skip it. */
static int
balance_usable(const struct balance_peer *p)
{
	return p->usable && p->weight >= 1;
}

/* Compare a->inflight/a->weight with b's without dividing: <0, 0 or >0. */
static int
balance_load_cmp(const struct balance_peer *a, const struct balance_peer *b)
{
	uint64_t	 la, lb;

	la = (uint64_t)a->inflight * (uint64_t)b->weight;
	lb = (uint64_t)b->inflight * (uint64_t)a->weight;
	return la < lb ? -1 : la > lb;
}

/*
 * Smooth weighted round robin over the usable peers, or only those as
 * loaded as tie when tie is not NULL. Returns an index or -1.
 */
static int
balance_smooth(struct balance_peer *peers, size_t n,
    const struct balance_peer *tie)
{
	struct balance_peer	*p, *best = NULL;
	int			 total = 0;
	size_t			 i;

	for (i = 0; i < n; i++) {
		p = &peers[i];
		if (!balance_usable(p) ||
		    (tie != NULL && balance_load_cmp(p, tie) != 0))
			continue;
		p->current += p->weight;
		total += p->weight;
		if (best == NULL || p->current > best->current)
			best = p;
	}
	if (best == NULL)
		return -1;
	best->current -= total;
	return (int)(best - peers);
}

/* Smooth weighted round robin (nginx); see balance.h. */
int
balance_round_robin(struct balance_peer *peers, size_t n)
{
	return balance_smooth(peers, n, NULL);
}

/* Fewest in-flight relative to weight, ties by smooth RR; see balance.h. */
int
balance_least_conn(struct balance_peer *peers, size_t n)
{
	struct balance_peer	*best = NULL;
	size_t			 i, ties = 0;

	for (i = 0; i < n; i++) {
		if (!balance_usable(&peers[i]))
			continue;
		if (best == NULL || balance_load_cmp(&peers[i], best) < 0) {
			best = &peers[i];
			ties = 1;
		} else if (balance_load_cmp(&peers[i], best) == 0)
			ties++;
	}
	if (best == NULL)
		return -1;
	/* Like nginx, a peer that is alone at the minimum keeps its state. */
	if (ties == 1)
		return (int)(best - peers);
	return balance_smooth(peers, n, best);
}

/*
 * Draw a usable peer other than skip (SIZE_MAX for none) with probability
 * proportional to weight. total is the sum of the candidates' weights; r is
 * scaled by multiplication so its high bits decide (weak generators such as
 * LCGs have poor low bits, which a modulo would use).
 */
static size_t
balance_draw(const struct balance_peer *peers, size_t n, size_t skip,
    uint64_t total, uint32_t r)
{
	uint64_t	 x = ((uint64_t)r * total) >> 32;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (i == skip || !balance_usable(&peers[i]))
			continue;
		if (x < (uint64_t)peers[i].weight)
			return i;
		x -= (uint64_t)peers[i].weight;
	}
	return SIZE_MAX;	/* not reached: x < total */
}

/* Power of two choices weighted by weight; see balance.h. */
int
balance_random_two(struct balance_peer *peers, size_t n, uint32_t r1,
    uint32_t r2)
{
	uint64_t	 total = 0;
	size_t		 i, a, b, usable = 0, last = 0;

	for (i = 0; i < n; i++) {
		if (!balance_usable(&peers[i]))
			continue;
		total += (uint64_t)peers[i].weight;
		usable++;
		last = i;
	}
	if (usable == 0)
		return -1;
	if (usable == 1)
		return (int)last;
	a = balance_draw(peers, n, SIZE_MAX, total, r1);
	b = balance_draw(peers, n, a, total - (uint64_t)peers[a].weight, r2);
	return balance_load_cmp(&peers[b], &peers[a]) < 0 ? (int)b : (int)a;
}

/* Dispatch on the configured method. */
int
balance_pick(enum conf_balance method, struct balance_peer *peers, size_t n,
    uint32_t r1, uint32_t r2)
{
	switch (method) {
	case CONF_BALANCE_ROUND_ROBIN:
		return balance_round_robin(peers, n);
	case CONF_BALANCE_LEAST_CONN:
		return balance_least_conn(peers, n);
	case CONF_BALANCE_RANDOM_TWO:
		return balance_random_two(peers, n, r1, r2);
	}
	return -1;
}
