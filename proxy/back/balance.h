/*
 * balance: choosing a server for the next request. Pure functions: the
 * caller passes the candidates and any randomness; nothing here reads a
 * clock or a global.
 */
#ifndef SLUICE_BACK_BALANCE_H
#define SLUICE_BACK_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* One candidate as the balancer sees it. */
struct balance_peer {
	int		 weight;	/* >= 1 when usable */
	int		 current;	/* smooth round robin state; starts 0,
					 * owned by the caller across calls */
	unsigned	 inflight;	/* exchanges currently on this peer */
	int		 usable;	/* 0: skip (draining, down, failed) */
	int		 full;		/* usable but at its limit (usable
					 * is 0 then); not read here */
};

/*
 * Smooth weighted round robin (nginx's algorithm): every usable peer's
 * current grows by its weight, the largest current wins and loses the total.
 * Returns the index picked, or -1 when no peer is usable.
 */
int	balance_round_robin(struct balance_peer *, size_t n);

/*
 * Fewest in-flight exchanges relative to weight (inflight/weight, compared
 * without division); ties are broken by smooth round robin among the tied.
 * Returns an index or -1.
 */
int	balance_least_conn(struct balance_peer *, size_t n);

/*
 * Power of two choices: two distinct usable peers drawn with probability
 * proportional to weight from r1 and r2, the one with fewer in-flight
 * relative to weight wins (the first on a tie). With one usable peer it is
 * returned. Returns an index or -1.
 */
int	balance_random_two(struct balance_peer *, size_t n, uint32_t r1,
	    uint32_t r2);

/* Dispatch on the configured method. */
int	balance_pick(enum conf_balance, struct balance_peer *, size_t n,
	    uint32_t r1, uint32_t r2);

#endif
