/* SPDX-License-Identifier: MIT */
/* libevent glue for libiotlb: see iotlb-libevent.h. */
#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include <iotlb.h>

#include "iotlb-libevent.h"

struct iotlb_event {
	struct event *ev;
	struct iotlb_engine *engine;
	int error;
};

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct iotlb_event *ev = arg;
	int r;

	/* Readiness is a hint: process() drains whatever is complete. */
	r = iotlb_engine_process(ev->engine);
	if (r < 0)
		ev->error = r;
}

int iotlb_event_new(struct iotlb_event **out, struct event_base *base,
		    struct iotlb_engine *e)
{
	struct iotlb_event *ev;
	int fd;

	if (!out || !base || !e)
		return -EINVAL;
	fd = iotlb_engine_get_fd(e);
	if (fd < 0)
		return fd;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->engine = e;
	ev->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_ready, ev);
	if (!ev->ev || event_add(ev->ev, NULL) < 0) {
		iotlb_event_free(ev);
		return -ENOMEM;
	}
	/* Work may already be complete: run it once from the loop. */
	event_active(ev->ev, EV_READ, 0);
	*out = ev;
	return 0;
}

int iotlb_event_get_error(const struct iotlb_event *ev)
{
	return ev ? ev->error : -EINVAL;
}

void iotlb_event_free(struct iotlb_event *ev)
{
	if (!ev)
		return;
	if (ev->ev)
		event_free(ev->ev);
	free(ev);
}
