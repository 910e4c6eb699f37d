/*
 * check_balance: the three balancers. Sequences are compared with nginx's
 * smooth weighted round robin; randomness comes from a fixed LCG so every
 * run sees the same numbers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "proxy/back/balance.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))
#define MAXPEERS	8

/* Deterministic generator (Knuth's MMIX LCG); returns the high 32 bits. */
static uint32_t
lcg_next(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*state >> 32);
}

/* Set up n peers with the given weights, all usable and idle. */
static void
peers_init(struct balance_peer *p, size_t n, const int *weights)
{
	size_t	 i;

	memset(p, 0, n * sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].weight = weights[i];
		p[i].usable = 1;
	}
}

/* nginx's sequence for weights 5, 1, 1, twice round. */
START_TEST(test_rr_nginx_sequence)
{
	static const int	 w[] = { 5, 1, 1 };
	static const char	 want[] = "aabacaaaabacaa";
	struct balance_peer	 p[3];
	size_t			 i;

	peers_init(p, 3, w);
	for (i = 0; i < sizeof(want) - 1; i++)
		ck_assert_int_eq(balance_round_robin(p, 3), want[i] - 'a');
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(p[i].current, 0);
}
END_TEST

/* Weights and the exact counts 7000 smooth round robin picks must give. */
struct wrr_case {
	size_t	 n;
	int	 weights[MAXPEERS];
	int	 usable[MAXPEERS];	/* 1 usable, 0 not */
	int	 want[MAXPEERS];
};

static const struct wrr_case wrr_cases[] = {
	{ 3, { 5, 1, 1 }, { 1, 1, 1 }, { 5000, 1000, 1000 } },
	{ 4, { 3, 2, 1, 1 }, { 1, 1, 1, 1 }, { 3000, 2000, 1000, 1000 } },
	{ 2, { 1, 1 }, { 1, 1 }, { 3500, 3500 } },
	{ 1, { 9 }, { 1 }, { 7000 } },
	{ 5, { 1, 1, 1, 2, 2 }, { 1, 1, 1, 1, 1 },
	    { 1000, 1000, 1000, 2000, 2000 } },
	{ 3, { 5, 1, 1 }, { 1, 0, 1 }, { 5833, 0, 1167 } },
	{ 3, { 5, 1, 1 }, { 0, 1, 1 }, { 0, 3500, 3500 } },
	{ 4, { 2, 7, 3, 2 }, { 1, 0, 1, 1 }, { 2000, 0, 3000, 2000 } },
};

/* Table row _i of wrr_cases: exact distribution over 7000 picks. */
START_TEST(test_rr_distribution)
{
	const struct wrr_case	*c = &wrr_cases[_i];
	struct balance_peer	 p[MAXPEERS];
	int			 got[MAXPEERS] = { 0 }, k, pick;
	size_t			 i;

	peers_init(p, c->n, c->weights);
	for (i = 0; i < c->n; i++)
		p[i].usable = c->usable[i];
	for (k = 0; k < 7000; k++) {
		pick = balance_round_robin(p, c->n);
		ck_assert(pick >= 0 && (size_t)pick < c->n);
		ck_assert_msg(p[pick].usable, "picked unusable %d", pick);
		got[pick]++;
	}
	for (i = 0; i < c->n; i++)
		ck_assert_msg(got[i] == c->want[i],
		    "row %d peer %zu: %d, want %d", _i, i, got[i], c->want[i]);
}
END_TEST

/* Unusable peers keep their state; with none usable the answer is -1. */
START_TEST(test_rr_unusable)
{
	static const int	 w[] = { 5, 1, 1 };
	struct balance_peer	 p[3];

	peers_init(p, 3, w);
	p[1].usable = 0;
	p[1].current = 42;
	ck_assert_int_eq(balance_round_robin(p, 3), 0);
	ck_assert_int_eq(p[1].current, 42);
	p[0].usable = p[2].usable = 0;
	ck_assert_int_eq(balance_round_robin(p, 3), -1);
	ck_assert_int_eq(balance_round_robin(p, 0), -1);
	ck_assert_int_eq(balance_least_conn(p, 3), -1);
	ck_assert_int_eq(balance_random_two(p, 3, 1, 2), -1);
	ck_assert_int_eq(balance_random_two(p, 0, 1, 2), -1);
}
END_TEST

/* A least_conn situation and the sequence of picks it must give. */
struct lc_case {
	const char	*name;
	size_t		 n;
	int		 weights[MAXPEERS];
	unsigned	 inflight[MAXPEERS];
	int		 usable[MAXPEERS];
	int		 want[6];	/* picks in order, inflight fixed */
};

static const struct lc_case lc_cases[] = {
	{ "fewest", 3, { 1, 1, 1 }, { 3, 1, 2 }, { 1, 1, 1 },
	    { 1, 1, 1, 1, 1, 1 } },
	{ "weight scales", 3, { 4, 1, 1 }, { 3, 1, 2 }, { 1, 1, 1 },
	    { 0, 0, 0, 0, 0, 0 } },
	{ "2/3 beats 3/4", 2, { 4, 3 }, { 3, 2 }, { 1, 1 },
	    { 1, 1, 1, 1, 1, 1 } },
	{ "tie alternates", 3, { 1, 1, 1 }, { 2, 2, 5 }, { 1, 1, 1 },
	    { 0, 1, 0, 1, 0, 1 } },
	{ "weighted tie is smooth", 3, { 2, 1, 1 }, { 2, 1, 0 }, { 1, 1, 0 },
	    { 0, 1, 0, 0, 1, 0 } },
	{ "all idle is smooth rr", 3, { 5, 1, 1 }, { 0, 0, 0 }, { 1, 1, 1 },
	    { 0, 0, 1, 0, 2, 0 } },
	{ "unusable skipped", 3, { 1, 1, 1 }, { 0, 1, 2 }, { 0, 1, 1 },
	    { 1, 1, 1, 1, 1, 1 } },
	{ "huge counts", 2, { 1000000, 1 }, { 4000000000u, 3999 },
	    { 1, 1 }, { 1, 1, 1, 1, 1, 1 } },
	{ "huge counts tie", 2, { 1000000, 1 }, { 4000000000u, 4000 },
	    { 1, 1 }, { 0, 0, 0, 0, 0, 0 } },
};

/* Table row _i of lc_cases. */
START_TEST(test_least_conn)
{
	const struct lc_case	*c = &lc_cases[_i];
	struct balance_peer	 p[MAXPEERS];
	size_t			 i;

	peers_init(p, c->n, c->weights);
	for (i = 0; i < c->n; i++) {
		p[i].inflight = c->inflight[i];
		p[i].usable = c->usable[i];
	}
	for (i = 0; i < NELEM(c->want); i++)
		ck_assert_msg(balance_least_conn(p, c->n) == c->want[i],
		    "%s: pick %zu", c->name, i);
}
END_TEST

/* A peer alone at the minimum is picked without touching current. */
START_TEST(test_least_conn_state)
{
	static const int	 w[] = { 1, 1 };
	struct balance_peer	 p[2];

	peers_init(p, 2, w);
	p[1].inflight = 1;
	ck_assert_int_eq(balance_least_conn(p, 2), 0);
	ck_assert_int_eq(p[0].current, 0);
	ck_assert_int_eq(p[1].current, 0);
}
END_TEST

/* One power-of-two draw with fixed random numbers. */
struct r2_case {
	const char	*name;
	size_t		 n;
	int		 weights[MAXPEERS];
	unsigned	 inflight[MAXPEERS];
	int		 usable[MAXPEERS];
	uint32_t	 r1, r2;
	int		 want;
};

static const struct r2_case r2_cases[] = {
	/* weights 1,1,1,1: r1 picks 0; r2 picks among 1,2,3 */
	{ "second less loaded", 4, { 1, 1, 1, 1 }, { 5, 2, 0, 0 },
	    { 1, 1, 1, 1 }, 0, 0, 1 },
	{ "first less loaded", 4, { 1, 1, 1, 1 }, { 1, 2, 0, 0 },
	    { 1, 1, 1, 1 }, 0, 0, 0 },
	{ "tie keeps first", 4, { 1, 1, 1, 1 }, { 3, 3, 0, 0 },
	    { 1, 1, 1, 1 }, 0, 0, 0 },
	{ "last and first", 4, { 1, 1, 1, 1 }, { 0, 0, 0, 7 },
	    { 1, 1, 1, 1 }, 0xffffffffu, 0, 0 },
	{ "r2 top is last other", 4, { 1, 1, 1, 1 }, { 9, 5, 0, 0 },
	    { 1, 1, 1, 1 }, 0x40000000u, 0xffffffffu, 3 },
	{ "never the same peer", 2, { 1, 1 }, { 4, 4 }, { 1, 1 },
	    0, 0, 0 },
	{ "never the same peer 2", 2, { 1, 1 }, { 5, 4 }, { 1, 1 },
	    0, 0, 1 },
	/* weights 3,1: r1 < 3/4 of 2^32 draws 0 */
	{ "weighted first draw", 2, { 3, 1 }, { 0, 0 }, { 1, 1 },
	    0xbfffffffu, 0, 0 },
	{ "weighted first draw 2", 2, { 3, 1 }, { 0, 0 }, { 1, 1 },
	    0xc0000000u, 0, 1 },
	{ "relative to weight", 2, { 3, 1 }, { 2, 1 }, { 1, 1 },
	    0xc0000000u, 0, 0 },
	{ "unusable not drawn", 3, { 1, 1, 1 }, { 0, 5, 6 }, { 0, 1, 1 },
	    0, 0, 1 },
	{ "one usable", 3, { 1, 1, 1 }, { 9, 0, 0 }, { 1, 0, 0 },
	    0xffffffffu, 0xffffffffu, 0 },
	{ "one usable last", 3, { 1, 1, 1 }, { 9, 0, 0 }, { 0, 0, 1 },
	    0, 0, 2 },
};

/* Table row _i of r2_cases. */
START_TEST(test_random_two)
{
	const struct r2_case	*c = &r2_cases[_i];
	struct balance_peer	 p[MAXPEERS];
	size_t			 i;
	int			 got;

	peers_init(p, c->n, c->weights);
	for (i = 0; i < c->n; i++) {
		p[i].inflight = c->inflight[i];
		p[i].usable = c->usable[i];
	}
	got = balance_random_two(p, c->n, c->r1, c->r2);
	ck_assert_msg(got == c->want, "%s: got %d, want %d", c->name, got,
	    c->want);
}
END_TEST

/* Count 60000 random_two picks from the LCG into got. */
static void
r2_run(struct balance_peer *p, size_t n, int *got)
{
	uint64_t	 state = 12345;
	uint32_t	 r1, r2;
	int		 k, pick;

	for (k = 0; k < 60000; k++) {
		r1 = lcg_next(&state);
		r2 = lcg_next(&state);
		pick = balance_random_two(p, n, r1, r2);
		ck_assert(pick >= 0 && (size_t)pick < n && p[pick].usable);
		got[pick]++;
	}
}

/* All idle: the first draw always wins, so picks follow weight. */
START_TEST(test_random_two_weights)
{
	static const int	 w[] = { 1, 2, 3, 4 };
	struct balance_peer	 p[4];
	int			 got[4] = { 0 };
	size_t			 i;

	peers_init(p, 4, w);
	p[3].usable = 0;
	r2_run(p, 4, got);
	ck_assert_int_eq(got[3], 0);
	for (i = 0; i < 3; i++)
		ck_assert_msg(abs(got[i] - 10000 * w[i]) < 600,
		    "peer %zu: %d, want about %d", i, got[i], 10000 * w[i]);
}
END_TEST

/*
 * Four equal peers, one idle and three busy: the idle one wins whenever it
 * is either draw, 1 - 3/4 * 2/3 = 1/2 of the time (two distinct draws).
 */
START_TEST(test_random_two_idle_wins)
{
	static const int	 w[] = { 1, 1, 1, 1 };
	struct balance_peer	 p[4];
	int			 got[4] = { 0 };
	size_t			 i;

	peers_init(p, 4, w);
	for (i = 1; i < 4; i++)
		p[i].inflight = 3;
	r2_run(p, 4, got);
	ck_assert_msg(abs(got[0] - 30000) < 600, "idle peer: %d", got[0]);
	for (i = 1; i < 4; i++)
		ck_assert_msg(abs(got[i] - 10000) < 600, "peer %zu: %d", i,
		    got[i]);
}
END_TEST

/* balance_pick dispatches on the configured method. */
START_TEST(test_pick)
{
	static const int	 w[] = { 1, 1 };
	struct balance_peer	 p[2];

	peers_init(p, 2, w);
	p[0].inflight = 5;
	ck_assert_int_eq(balance_pick(CONF_BALANCE_ROUND_ROBIN, p, 2, 0, 0),
	    0);
	ck_assert_int_eq(balance_pick(CONF_BALANCE_ROUND_ROBIN, p, 2, 0, 0),
	    1);
	ck_assert_int_eq(balance_pick(CONF_BALANCE_LEAST_CONN, p, 2, 0, 0), 1);
	ck_assert_int_eq(balance_pick(CONF_BALANCE_RANDOM_TWO, p, 2, 0, 0), 1);
	ck_assert_int_eq(balance_pick((enum conf_balance)99, p, 2, 0, 0), -1);
}
END_TEST

/* The balance suite. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("balance");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_rr_nginx_sequence);
	tcase_add_loop_test(tc, test_rr_distribution, 0, NELEM(wrr_cases));
	tcase_add_test(tc, test_rr_unusable);
	tcase_add_loop_test(tc, test_least_conn, 0, NELEM(lc_cases));
	tcase_add_test(tc, test_least_conn_state);
	tcase_add_loop_test(tc, test_random_two, 0, NELEM(r2_cases));
	tcase_add_test(tc, test_random_two_weights);
	tcase_add_test(tc, test_random_two_idle_wins);
	tcase_add_test(tc, test_pick);
	suite_add_tcase(s, tc);
	return s;
}
