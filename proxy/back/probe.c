/*
 * probe: active health checks over our own upstream client.
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "proxy/http/http1.h"
#include "proxy/base/log.h"
#include "proxy/back/probe.h"
#include "proxy/base/runtime.h"
#include "proxy/back/upconn.h"
#include "proxy/back/server.h"

static void	probe_head(void *, const struct http1_response *);
static void	probe_body(void *, struct evbuffer *);
static void	probe_done(void *, int);
static void	probe_error(void *, enum upconn_error, const char *);

static const struct upconn_cbs probe_cbs = {
	probe_head, probe_body, probe_done, probe_error, NULL,
};

/* Give back the max_conns slot the check held. */
static void
probe_slot_put(struct server *s)
{
	if (s->check_slot) {
		s->check_slot = 0;
		server_slot_put(s);
	}
}

/* End the check in progress with a verdict. */
static void
probe_finish(struct server *s, int ok, const char *why)
{
	upconn_release(s->check_uc, 0);
	s->check_uc = NULL;
	probe_slot_put(s);
	server_checked(s, ok, why);
	server_unref(s);		/* the check's reference */
}

/* The response head: judge by the status. */
static void
probe_head(void *arg, const struct http1_response *r)
{
	struct server	*s = arg;

	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	s->check_status = r->status;
}

/* The body is not needed. */
static void
probe_body(void *arg, struct evbuffer *data)
{
	evbuffer_drain(data, evbuffer_get_length(data));
}

/* The response is complete. */
static void
probe_done(void *arg, int reusable)
{
	struct server	*s = arg;
	int		 ok;

	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	ok = s->check_status >= server_local(s)->set.check_status_min &&
	    s->check_status <= server_local(s)->set.check_status_max;
	probe_finish(s, ok, ok ? "health check passed" :
	    "health check got an unexpected status");
}

/* The check failed to complete. */
static void
probe_error(void *arg, enum upconn_error err, const char *why)
{
	struct server	*s = arg;

	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	log_debug("server %s/%s: health check: %s", s->upstream, s->name,
	    why);
	probe_finish(s, 0, why);
}

/* Send one check on a fresh connection. */
static void
probe_start(struct server *s)
{
	struct evbuffer	*req;

	/*
	 * A check is a request too: with max_conns it takes a slot, and a
	 * server at its limit is not checked this time (it is busy serving,
	 * and those requests' verdicts speak for it).
	 */
	if (!server_slot_take(s, &s->check_slot)) {
		log_debug("server %s/%s: at max_conns, health check skipped",
		    s->upstream, s->name);
		return;
	}
	if ((req = evbuffer_new()) == NULL) {
		probe_slot_put(s);
		return;
	}
	evbuffer_add_printf(req, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: sluice-health-check\r\nConnection: close\r\n\r\n",
	    server_local(s)->set.check_path, s->addrtext);
	if ((s->check_uc = upconn_get_fresh(s)) != NULL) {
		server_ref(s);
		s->check_status = 0;
		upconn_set_timeout(s->check_uc,
		    server_local(s)->set.check_timeout_ms);
		if (upconn_request(s->check_uc, req, 0, &probe_cbs, s) == -1)
			probe_finish(s, 0, "cannot connect");
	} else
		probe_slot_put(s);
	evbuffer_free(req);
}

/* The interval passed: check, unless the previous check still runs. */
static void
probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	SLUICE_MAGIC_CHECK(s, SERVER_MAGIC);
	if (s->check_uc == NULL && server_local(s)->set.check_path != NULL &&
	    SLUICE_LOAD(&s->state) == SERVER_ACTIVE)
		probe_start(s);
	if (server_local(s)->set.check_path != NULL &&
	    SLUICE_LOAD(&s->state) == SERVER_ACTIVE)
		evtimer_add(s->check_ev, &server_local(s)->set.check_interval);
}

/* See probe.h. The first check runs at once. */
void
probe_schedule(struct server *s)
{
	struct timeval	now = { 0, 0 };

	if (server_local(s)->set.check_path == NULL || sluice_base == NULL) {
		probe_stop(s);
		return;
	}
	if (s->check_ev == NULL &&
	    (s->check_ev = evtimer_new(sluice_base, probe_cb, s)) == NULL)
		return;
	if (!evtimer_pending(s->check_ev, NULL))
		evtimer_add(s->check_ev, &now);
}

/* See probe.h. */
void
probe_stop(struct server *s)
{
	if (s->check_ev != NULL) {
		event_free(s->check_ev);
		s->check_ev = NULL;
	}
	if (s->check_uc != NULL) {
		upconn_release(s->check_uc, 0);
		s->check_uc = NULL;
		probe_slot_put(s);
		server_unref(s);
	}
}
