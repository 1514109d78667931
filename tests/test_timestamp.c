/*
 * test_timestamp.c - the library's one ISO-8601 formatter (lib/timestamp.c),
 * as the event timestamps and the dead-letter headers (vtev.dlq.time,
 * vtev.original.timestamp: milliseconds) use it.
 */
#include <stdint.h>

#include "testutil.h"
#include "timestamp.h"

static const char *fmt(int64_t v, int64_t per_second) {
    static char buf[64];
    size_t n = vtev__format_time(v, per_second, buf, sizeof(buf));
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(test_milliseconds) {
    ck_assert_str_eq(fmt(0, 1000), "1970-01-01T00:00:00.000Z");
    ck_assert_str_eq(fmt(INT64_C(1768059000123), 1000), "2026-01-10T15:30:00.123Z");
    ck_assert_str_eq(fmt(INT64_C(951782400000), 1000), "2000-02-29T00:00:00.000Z");
    ck_assert_str_eq(fmt(-1, 1000), "1969-12-31T23:59:59.999Z");
    /* the dead-letter headers: wall-clock microseconds truncated to ms */
    ck_assert_str_eq(fmt(INT64_C(1768059000123999) / 1000, 1000), "2026-01-10T15:30:00.123Z");
}
END_TEST

START_TEST(test_microseconds) {
    char buf[64];
    vtev__format_timestamp(INT64_C(1768059000123000), buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-01-10T15:30:00.123Z");
    vtev__format_timestamp(INT64_C(1768059000123456), buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-01-10T15:30:00.123456Z");
    vtev__format_timestamp(VTEV__TS_MAX_US, buf, sizeof(buf));
    ck_assert_str_eq(buf, "9999-12-31T23:59:59.999999Z");
}
END_TEST

START_TEST(test_round_trip) {
    static const int64_t us[] = {0, 1, INT64_C(1768059000123456), INT64_C(-86400000001),
                                 VTEV__TS_MAX_US};
    size_t i;
    for (i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
        char buf[64];
        int64_t back = 0;
        vtev__format_timestamp(us[i], buf, sizeof(buf));
        ck_assert_int_eq(vtev__parse_timestamp(buf, &back), 0);
        ck_assert_int_eq(back, us[i]);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("timestamp");
    TCase *tc = tcase_create("timestamp");
    tcase_add_test(tc, test_milliseconds);
    tcase_add_test(tc, test_microseconds);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
