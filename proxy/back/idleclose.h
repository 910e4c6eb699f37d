/*
 * idleclose: how long a server keeps an idle keep-alive connection, as
 * learned from what its connections do. Pure: every function takes the
 * time as an argument and touches only the struct it is given.
 *
 * Many servers close idle connections after a fixed time without saying
 * so (no "Keep-Alive: timeout"). A request sent on such a connection just
 * as the server closes it is lost; a GET may be repeated, a POST may not.
 * So each close of a pooled connection is an observation: "closed after
 * idle X". Two observations that agree, made at different moments (a
 * crashing server closes every connection at one moment, whatever their
 * age), make the estimate. Pooled connections then retire a margin before
 * it, and a request that must not be repeated never goes on a connection
 * idle longer than the safe age: the estimate less that margin, or while
 * there is none, the longest idle seen still open less a sixteenth (at
 * least 50 ms), and never less than IDLECLOSE_SAFE_MS. A connection still
 * open after idle X is the other observation: "keeps at least X". When
 * one clearly outlives the estimate (by more than the agreement: the two
 * sides' clocks start a little apart), the server keeps connections
 * longer now and the estimate is dropped. The estimate also creeps up
 * over IDLECLOSE_RELEARN_MS, so that connections eventually live long
 * enough to show a longer timeout.
 */
#ifndef SLUICE_BACK_IDLECLOSE_H
#define SLUICE_BACK_IDLECLOSE_H

#include <stdint.h>

/* Retire this long before the estimate: a quarter of it, within these. */
#define IDLECLOSE_MARGIN_MIN_MS	50
#define IDLECLOSE_MARGIN_MAX_MS	1000
/* Two observations agree within an eighth, or this much. */
#define IDLECLOSE_AGREE_MS	20
/* ... and must be this far apart in time. */
#define IDLECLOSE_APART_MS	100
/* The estimate grows by its margin over this time. */
#define IDLECLOSE_RELEARN_MS	(10 * 60 * 1000)
/* The safe age while nothing is known (no server is this quick). */
#define IDLECLOSE_SAFE_MS	200

struct idleclose {
	uint64_t	 close_ms;	/* the estimate; 0: none */
	uint64_t	 close_at;	/* when it was last seen */
	uint64_t	 cand_ms;	/* one close, waiting for another like
					 * it; 0: none */
	uint64_t	 cand_at;
	uint64_t	 alive_ms;	/* the longest idle seen still open */
};

/* What an observation changed, for the one log line it may get. */
enum idleclose_change {
	IDLECLOSE_SAME = 0,
	IDLECLOSE_LEARNED,	/* a new estimate, or one that moved */
	IDLECLOSE_FORGOT,	/* the server keeps connections longer */
};

/* The server closed a connection after it was idle for idle_ms. */
enum idleclose_change	 idleclose_closed(struct idleclose *,
			    uint64_t idle_ms, uint64_t now);

/* A connection idle for idle_ms was still open (reused, or timed out). */
enum idleclose_change	 idleclose_alive(struct idleclose *,
			    uint64_t idle_ms, uint64_t now);

/* Idle longer than this, a pooled connection is closed; UINT64_MAX: no
 * bound learned. */
uint64_t		 idleclose_retire_ms(const struct idleclose *,
			    uint64_t now);

/* The longest idle a request that must not be repeated may reuse. */
uint64_t		 idleclose_safe_ms(const struct idleclose *);

#endif
