/*
 * health: whether a server should get requests, from what its requests
 * (passive) and its health checks (active) show. Pure: every function
 * takes the time as an argument and touches only the struct it is given.
 *
 * Passive (nginx's max_fails/fail_timeout): max_fails failures within
 * fail_timeout take the server out for fail_timeout; then one trial
 * request goes through; its success brings the server back, its failure
 * takes it out again. Active: health_fall failed checks in a row take the
 * server out, health_rise passed ones bring it back (and end a passive
 * outage too). A server back in service ramps its weight up over
 * slow_start.
 */
#ifndef SLUICE_BACK_HEALTH_H
#define SLUICE_BACK_HEALTH_H

#include <stddef.h>
#include <stdint.h>

/* What a transition was, for the one log line each gets. */
enum health_change {
	HEALTH_SAME = 0,
	HEALTH_WENT_DOWN,
	HEALTH_WENT_UP,
	HEALTH_HELD,		/* would have gone down; kept in by the cap
				 * on servers out at once (max_ejected) */
};

/* The settings, copied from the upstream. */
struct health_conf {
	int		 max_fails;	/* 0: passive checks off */
	uint64_t	 fail_timeout_ms;
	int		 rise;
	int		 fall;
	uint64_t	 slow_start_ms;
	int		 max_ejected_pct; /* servers failures may take out
					  * at once, percent of the
					  * upstream's (at least one) */
};

struct health {
	/* passive */
	int		 fails;		/* within the current window */
	uint64_t	 window_start;
	int		 out;		/* taken out by failures */
	uint64_t	 out_until;
	int		 trial;		/* the trial request is in flight */
	/* active */
	int		 checked_down;	/* taken out by health checks */
	int		 streak;	/* >0 passes, <0 failures in a row */
	/* both */
	uint64_t	 up_since;	/* for slow start; 0: from the start */
};

/* 1 when the server is in service (a trial may be due: see take). */
int			 health_up(const struct health *, uint64_t now);

/*
 * 1 when a new request may go to the server now. A server out by passive
 * failures whose fail_timeout has passed may take exactly one request (the
 * trial) when no trial is in flight.
 */
int			 health_usable(const struct health *, uint64_t now);

/*
 * The server was picked for a request: start the trial if one is due. 1
 * when this request is the trial.
 */
int			 health_take(struct health *, uint64_t now);

/*
 * A request on the server succeeded or failed (passive); trial says
 * whether it was the trial request. While the server is out, only the
 * trial's outcome counts (requests that began before it went out say
 * nothing new). can_eject 0: a failure that would take the server out
 * leaves it in (HEALTH_HELD), one failure short of max_fails, so that
 * the next failure asks again.
 */
enum health_change	 health_passive(struct health *,
			    const struct health_conf *, int ok, int trial,
			    int can_eject, uint64_t now);

/* A request that was the trial ended without a verdict (client left). */
void			 health_untake(struct health *);

/*
 * 1 when passive health may take one more of n servers out while down of
 * them already are (by passive or active health): at most pct percent of
 * them, rounded down, but always at least one.
 */
int			 health_may_eject(size_t down, size_t n, int pct);

/* One active check passed or failed. */
enum health_change	 health_check(struct health *,
			    const struct health_conf *, int ok, uint64_t now);

/* The weight to balance with: weight ramped over slow_start, at least 1. */
int			 health_weight(const struct health *,
			    const struct health_conf *, int weight,
			    uint64_t now);

#endif
