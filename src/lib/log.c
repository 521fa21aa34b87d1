/* SPDX-License-Identifier: MIT */
/* Process-wide logging in the libkmod style: a sink and a priority. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "iotlb.h"
#include "iotlb-internal.h"

static void log_stderr(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args);

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_prio = LOG_ERR;
static iotlb_log_fn log_fn = log_stderr;
static void *log_data;

static const char *const prio_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err", [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/*
 * Accepts a syslog level number (0-7) or a name ("err", "warning",
 * "info", "debug", also "error" and "warn").  Returns the level or
 * -EINVAL.
 */
int iotlb__log_parse_priority(const char *s)
{
	char *end;
	long v;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || *end || v < LOG_EMERG || v > LOG_DEBUG)
			return -EINVAL;
		return (int)v;
	}
	for (i = 0; i < IOTLB_ARRAY_SIZE(prio_names); i++)
		if (strcmp(s, prio_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "error") == 0)
		return LOG_ERR;
	if (strcmp(s, "warn") == 0)
		return LOG_WARNING;
	return -EINVAL;
}

static void log_init(void)
{
	const char *env;
	int p;

#ifdef HAVE_SECURE_GETENV
	env = secure_getenv("IOTLB_LOG");
#else
	env = getenv("IOTLB_LOG");
#endif
	if (!env)
		return;
	p = iotlb__log_parse_priority(env);
	if (p >= 0)
		atomic_store(&log_prio, p);
}

static void log_stderr(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	const char *name = "?";
	char msg[1024];
	int n;

	if (priority >= 0 && priority <= LOG_DEBUG)
		name = prio_names[priority];
	/* One fprintf per line so lines from several threads never mix. */
	n = vsnprintf(msg, sizeof(msg), format, args);
	if (n < 0)
		return;
	n = (int)strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fprintf(stderr, "libiotlb: %s: %s: %s\n", name, fn, msg);
}

int iotlb__log_priority(void)
{
	pthread_once(&log_once, log_init);
	return atomic_load_explicit(&log_prio, memory_order_relaxed);
}

void iotlb__log(int priority, const char *file, int line, const char *fn,
		const char *format, ...)
{
	iotlb_log_fn f;
	void *d;
	va_list ap;

	pthread_mutex_lock(&log_lock);
	f = log_fn;
	d = log_data;
	pthread_mutex_unlock(&log_lock);
	if (!f)
		return;
	va_start(ap, format);
	f(d, priority, file, line, fn, format, ap);
	va_end(ap);
}

IOTLB_EXPORT void iotlb_set_log_fn(iotlb_log_fn fn, void *data)
{
	pthread_once(&log_once, log_init);
	pthread_mutex_lock(&log_lock);
	log_fn = fn ? fn : log_stderr;
	log_data = fn ? data : NULL;
	pthread_mutex_unlock(&log_lock);
}

IOTLB_EXPORT int iotlb_set_log_priority(int priority)
{
	if (priority < LOG_EMERG || priority > LOG_DEBUG)
		return -EINVAL;
	pthread_once(&log_once, log_init);
	atomic_store(&log_prio, priority);
	return 0;
}

IOTLB_EXPORT int iotlb_get_log_priority(void)
{
	return iotlb__log_priority();
}
