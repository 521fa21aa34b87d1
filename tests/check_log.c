/* SPDX-License-Identifier: MIT */
/* Description: log sink, priority, IOTLB_LOG parsing, version checks. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "iotlb.h"
#include "iotlb-internal.h"

static int calls;
static int last_prio;
static char last_msg[256];

static void t_sink(void *data, int priority, const char *file, int line,
		   const char *fn, const char *format, va_list args)
{
	calls++;
	last_prio = priority;
	vsnprintf(last_msg, sizeof(last_msg), format, args);
	ck_assert_ptr_eq(data, &calls);
	ck_assert_ptr_nonnull(file);
	ck_assert_int_gt(line, 0);
}

START_TEST(test_parse_priority)
{
	ck_assert_int_eq(iotlb__log_parse_priority("debug"), LOG_DEBUG);
	ck_assert_int_eq(iotlb__log_parse_priority("info"), LOG_INFO);
	ck_assert_int_eq(iotlb__log_parse_priority("err"), LOG_ERR);
	ck_assert_int_eq(iotlb__log_parse_priority("error"), LOG_ERR);
	ck_assert_int_eq(iotlb__log_parse_priority("warn"), LOG_WARNING);
	ck_assert_int_eq(iotlb__log_parse_priority("3"), 3);
	ck_assert_int_eq(iotlb__log_parse_priority("7"), 7);
	ck_assert_int_eq(iotlb__log_parse_priority("8"), -EINVAL);
	ck_assert_int_eq(iotlb__log_parse_priority("-1"), -EINVAL);
	ck_assert_int_eq(iotlb__log_parse_priority("3x"), -EINVAL);
	ck_assert_int_eq(iotlb__log_parse_priority("loud"), -EINVAL);
	ck_assert_int_eq(iotlb__log_parse_priority(""), -EINVAL);
	ck_assert_int_eq(iotlb__log_parse_priority(NULL), -EINVAL);
}
END_TEST

START_TEST(test_sink_and_priority)
{
	iotlb_set_log_fn(t_sink, &calls);
	ck_assert_int_eq(iotlb_set_log_priority(LOG_INFO), 0);
	ck_assert_int_eq(iotlb_get_log_priority(), LOG_INFO);
	calls = 0;
	ERR("bad thing %d", 42);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(last_prio, LOG_ERR);
	ck_assert_str_eq(last_msg, "bad thing 42");
	INFO("fyi");
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(iotlb_set_log_priority(LOG_ERR), 0);
	INFO("filtered");
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(iotlb_set_log_priority(8), -EINVAL);
	ck_assert_int_eq(iotlb_set_log_priority(-1), -EINVAL);
	ck_assert_int_eq(iotlb_get_log_priority(), LOG_ERR);
	iotlb_set_log_fn(NULL, NULL);	/* back to stderr */
}
END_TEST

START_TEST(test_env)
{
	/* Runs in a forked child (CK_FORK), before anything touched logging. */
	setenv("IOTLB_LOG", "debug", 1);
	ck_assert_int_eq(iotlb_get_log_priority(), LOG_DEBUG);
}
END_TEST

START_TEST(test_env_bad)
{
	setenv("IOTLB_LOG", "nonsense", 1);
	ck_assert_int_eq(iotlb_get_log_priority(), LOG_ERR);
}
END_TEST

/* The default sink: one line on stderr, prefixed, exactly one newline. */
START_TEST(test_stderr_format)
{
	int p[2];
	char buf[256];
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
	iotlb_set_log_fn(NULL, NULL);
	ck_assert_int_eq(iotlb_set_log_priority(LOG_ERR), 0);
	ERR("walk %s", "failed\n\n");
	INFO("not shown");
	close(STDERR_FILENO);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "libiotlb: err: test_stderr_format_fn: walk failed\n");
}
END_TEST

START_TEST(test_version)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", IOTLB_VERSION_MAJOR,
		 IOTLB_VERSION_MINOR, IOTLB_VERSION_MICRO);
	ck_assert_str_eq(iotlb_version(), PACKAGE_VERSION);
	ck_assert_str_eq(iotlb_version(), want);
	ck_assert_int_eq(iotlb_check_version(0, 0), 1);
	ck_assert_int_eq(iotlb_check_version(IOTLB_VERSION_MAJOR, IOTLB_VERSION_MINOR), 1);
	ck_assert_int_eq(iotlb_check_version(IOTLB_VERSION_MAJOR, IOTLB_VERSION_MINOR + 1), 0);
	ck_assert_int_eq(iotlb_check_version(IOTLB_VERSION_MAJOR + 1, 0), 0);
	ck_assert(IOTLB_CHECK_VERSION(0, 1));
	ck_assert(!IOTLB_CHECK_VERSION(1, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_priority);
	tcase_add_test(tc, test_sink_and_priority);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_env_bad);
	tcase_add_test(tc, test_stderr_format);
	tcase_add_test(tc, test_version);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* test_env needs a fresh process per test. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
