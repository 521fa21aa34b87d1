/* SPDX-License-Identifier: MIT */
/*
 * libevent glue for libiotlb: one persistent read event on the engine's
 * fd that calls iotlb_engine_process().  Copy it into a VMM or build it
 * as it is; iotlbd uses this same file.
 */
#ifndef IOTLB_LIBEVENT_H
#define IOTLB_LIBEVENT_H

#include <event2/event.h>

#include <iotlb.h>

struct iotlb_event;

/* Returns 0 and *out, or -errno (-ENOMEM, or what event_add() refused). */
int iotlb_event_new(struct iotlb_event **out, struct event_base *base,
		    struct iotlb_engine *e);
/* Last error of iotlb_engine_process() seen by the callback, or 0. */
int iotlb_event_get_error(const struct iotlb_event *ev);
void iotlb_event_free(struct iotlb_event *ev);

#endif /* IOTLB_LIBEVENT_H */
