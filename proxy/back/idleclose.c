/*
 * idleclose: a server's idle timeout learned from its connections, as
 * pure state transitions.
 */
#include "proxy/back/idleclose.h"

/* How long before an estimate of ms to act: a quarter, bounded. */
static uint64_t
idleclose_margin(uint64_t ms)
{
	uint64_t	m = ms / 4;

	if (m < IDLECLOSE_MARGIN_MIN_MS)
		return IDLECLOSE_MARGIN_MIN_MS;
	return m > IDLECLOSE_MARGIN_MAX_MS ? IDLECLOSE_MARGIN_MAX_MS : m;
}

/* ms less the margin before it, at least 0. */
static uint64_t
idleclose_before(uint64_t ms)
{
	uint64_t	m = idleclose_margin(ms);

	return ms > m ? ms - m : 0;
}

/*
 * ms less the margin a connection seen open after ms needs: the server's
 * timeout is longer than that less a round trip, so only delays matter
 * here, not the spread of an estimate.
 */
static uint64_t
idleclose_alive_before(uint64_t ms)
{
	uint64_t	m = ms / 16;

	if (m < IDLECLOSE_MARGIN_MIN_MS)
		m = IDLECLOSE_MARGIN_MIN_MS;
	return ms > m ? ms - m : 0;
}

/* 1 when two idle times are the same timeout, seen twice. */
static int
idleclose_agree(uint64_t a, uint64_t b)
{
	uint64_t	lo = a < b ? a : b, d = a < b ? b - a : a - b;
	uint64_t	tol = lo / 8;

	return d <= (tol > IDLECLOSE_AGREE_MS ? tol : IDLECLOSE_AGREE_MS);
}

/* The estimate becomes ms, seen now. */
static enum idleclose_change
idleclose_set(struct idleclose *k, uint64_t ms, uint64_t now)
{
	int	moved = k->close_ms == 0 || !idleclose_agree(ms, k->close_ms);

	k->close_ms = ms;
	k->close_at = now;
	return moved ? IDLECLOSE_LEARNED : IDLECLOSE_SAME;
}

/* See idleclose.h. */
enum idleclose_change
idleclose_closed(struct idleclose *k, uint64_t idle_ms, uint64_t now)
{
	uint64_t	ms;

	/* what kept before does no more (within the agreement: jitter) */
	if (k->alive_ms > idle_ms && !idleclose_agree(k->alive_ms, idle_ms))
		k->alive_ms = 0;
	if (k->cand_ms != 0 && idleclose_agree(idle_ms, k->cand_ms) &&
	    now - k->cand_at >= IDLECLOSE_APART_MS) {
		ms = idle_ms < k->cand_ms ? idle_ms : k->cand_ms;
		k->cand_ms = 0;
		return idleclose_set(k, ms, now);
	}
	/* the estimate seen again (or a longer timeout): no doubt left */
	if (k->close_ms != 0 && (idle_ms >= k->close_ms ||
	    idleclose_agree(idle_ms, k->close_ms)))
		return idleclose_set(k, idle_ms, now);
	k->cand_ms = idle_ms;
	k->cand_at = now;
	return IDLECLOSE_SAME;
}

/* See idleclose.h. */
enum idleclose_change
idleclose_alive(struct idleclose *k, uint64_t idle_ms, uint64_t now)
{
	if (idle_ms > k->alive_ms)
		k->alive_ms = idle_ms;
	if (k->cand_ms != 0 && idle_ms > k->cand_ms &&
	    !idleclose_agree(idle_ms, k->cand_ms))
		k->cand_ms = 0;
	if (k->close_ms != 0 && idle_ms > k->close_ms &&
	    !idleclose_agree(idle_ms, k->close_ms)) {
		k->close_ms = 0;
		return IDLECLOSE_FORGOT;
	}
	return IDLECLOSE_SAME;
}

/* See idleclose.h. The estimate creeps up by its margin per RELEARN. */
uint64_t
idleclose_retire_ms(const struct idleclose *k, uint64_t now)
{
	uint64_t	eff;

	if (k->close_ms == 0)
		return UINT64_MAX;
	eff = k->close_ms + idleclose_margin(k->close_ms) *
	    (now - k->close_at) / IDLECLOSE_RELEARN_MS;
	return idleclose_before(eff);
}

/* See idleclose.h. */
uint64_t
idleclose_safe_ms(const struct idleclose *k)
{
	uint64_t	safe, c;

	if (k->close_ms != 0)
		safe = idleclose_before(k->close_ms);
	else if ((safe = idleclose_alive_before(k->alive_ms)) <
	    IDLECLOSE_SAFE_MS)
		safe = IDLECLOSE_SAFE_MS;
	if (k->cand_ms != 0 && (c = idleclose_before(k->cand_ms)) < safe)
		safe = c;
	return safe;
}
