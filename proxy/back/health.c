/*
 * health: passive and active health as pure state transitions.
 */
#include "proxy/back/health.h"

/* 1 when passive failures have the server out and no trial may run. */
static int
health_passive_blocks(const struct health *h, uint64_t now)
{
	if (!h->out)
		return 0;
	return now < h->out_until || h->trial;
}

/* See health.h. Out by failures counts as down until a trial succeeds. */
int
health_up(const struct health *h, uint64_t now)
{
	return !h->checked_down && !h->out;
}

/* See health.h. */
int
health_usable(const struct health *h, uint64_t now)
{
	return !h->checked_down && !health_passive_blocks(h, now);
}

/* See health.h. */
int
health_take(struct health *h, uint64_t now)
{
	if (!h->out || now < h->out_until || h->trial)
		return 0;
	h->trial = 1;
	return 1;
}

/* See health.h. */
void
health_untake(struct health *h)
{
	h->trial = 0;
}

/* Back in service: slow start counts from now. */
static enum health_change
health_back(struct health *h, uint64_t now)
{
	h->out = 0;
	h->trial = 0;
	h->fails = 0;
	h->up_since = now;
	return HEALTH_WENT_UP;
}

/* See health.h. */
enum health_change
health_passive(struct health *h, const struct health_conf *c, int ok,
    int trial, int can_eject, uint64_t now)
{
	if (c->max_fails == 0)
		return HEALTH_SAME;
	if (h->out && !trial)		/* began before the server went out */
		return HEALTH_SAME;
	if (ok) {
		if (h->out)
			return health_back(h, now);
		return HEALTH_SAME;
	}
	if (h->out) {			/* the trial failed: out again */
		h->trial = 0;
		h->out_until = now + c->fail_timeout_ms;
		return HEALTH_SAME;
	}
	if (h->fails == 0 || now - h->window_start >= c->fail_timeout_ms) {
		h->fails = 0;
		h->window_start = now;
	}
	if (++h->fails < c->max_fails)
		return HEALTH_SAME;
	if (!can_eject) {
		h->fails--;
		return HEALTH_HELD;
	}
	h->out = 1;
	h->trial = 0;
	h->out_until = now + c->fail_timeout_ms;
	return h->checked_down ? HEALTH_SAME : HEALTH_WENT_DOWN;
}

/* See health.h. */
int
health_may_eject(size_t down, size_t n, int pct)
{
	size_t	limit = n * (size_t)pct / 100;

	return down < (limit > 0 ? limit : 1);
}

/* See health.h. */
enum health_change
health_check(struct health *h, const struct health_conf *c, int ok,
    uint64_t now)
{
	int	was_up = health_up(h, now);

	if (ok)
		h->streak = h->streak > 0 ? h->streak + 1 : 1;
	else
		h->streak = h->streak < 0 ? h->streak - 1 : -1;
	if (ok && h->streak >= c->rise && (h->checked_down || h->out)) {
		h->checked_down = 0;
		health_back(h, now);
		return was_up ? HEALTH_SAME : HEALTH_WENT_UP;
	}
	if (!ok && -h->streak >= c->fall && !h->checked_down) {
		h->checked_down = 1;
		return was_up ? HEALTH_WENT_DOWN : HEALTH_SAME;
	}
	return HEALTH_SAME;
}

/* See health.h. */
int
health_weight(const struct health *h, const struct health_conf *c,
    int weight, uint64_t now)
{
	uint64_t	elapsed;
	int		w;

	if (c->slow_start_ms == 0 || h->up_since == 0 ||
	    now - h->up_since >= c->slow_start_ms)
		return weight;
	elapsed = now - h->up_since;
	w = (int)((uint64_t)weight * elapsed / c->slow_start_ms);
	return w < 1 ? 1 : w;
}
