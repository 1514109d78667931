/*
 * testutil.h - small helpers shared by the Check test programs.
 */
#ifndef VTEV_TESTUTIL_H
#define VTEV_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Asserts that haystack contains needle, printing both on failure. */
#define ck_assert_str_contains(haystack, needle)                                        \
    ck_assert_msg(strstr((haystack), (needle)) != NULL, "\"%s\" does not contain \"%s\"", \
                  (haystack), (needle))

/* Adds test_NAME to suite s as a case of its own, named NAME, so that meson
 * can run each case as one test (CK_RUN_CASE=NAME; tests/meson.build lists
 * the names). */
#define VTEV_TEST_CASE(s, name, timeout_s)          \
    do {                                            \
        TCase *vtev_tc_ = tcase_create(#name);      \
        tcase_set_timeout(vtev_tc_, (timeout_s));   \
        tcase_add_test(vtev_tc_, test_##name);      \
        suite_add_tcase((s), vtev_tc_);             \
    } while (0)

/* Runs one suite, returns the process exit status (0 when nothing failed). */
static inline int vtev_test_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Returns the environment variable or NULL; integration tests exit 77 (skip)
 * only when VTEV_ALLOW_SKIP=1 says the service is deliberately absent. */
static inline const char *vtev_test_require_env(const char *name) {
    const char *v = getenv(name);
    if (v && *v)
        return v;
    if (getenv("VTEV_ALLOW_SKIP") && !strcmp(getenv("VTEV_ALLOW_SKIP"), "1"))
        exit(77);
    fprintf(stderr, "%s is not set: start the stack with ./run stack up (or set VTEV_ALLOW_SKIP=1)\n",
            name);
    exit(EXIT_FAILURE);
}

/* A listening socket on 127.0.0.1 that nobody reads: connections complete
 * (the kernel's backlog), no answer ever comes. Returns the fd (close it when
 * done) and its port in *portp. */
static inline int vtev_test_blackhole(int *portp) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *portp = (int)ntohs(sa.sin_port);
    return fd;
}

#endif
