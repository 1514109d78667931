/*
 * test_backoff.c - the library's one exponential backoff (lib/backoff.c):
 * full jitter for the registry client's retries, equal jitter for the
 * consumer's handler retries.
 */
#include <stdint.h>

#include "internal.h"
#include "testutil.h"

/* d for attempt k: base doubled k - 1 times, capped. */
static int64_t ceiling(int k, int64_t base, int64_t max) {
    int64_t d = base;
    int i;
    for (i = 1; i < k; i++)
        d = d * 2 > max ? max : d * 2;
    return d > max ? max : d;
}

START_TEST(test_full_jitter) {
    int i, k;
    for (k = 1; k <= 10; k++) {
        int64_t cap = ceiling(k, 100, 2000), lo = cap, hi = 0;
        for (i = 0; i < 400; i++) {
            int64_t b = vtev__backoff_ms(k, 100, 2000, VTEV__JITTER_FULL);
            ck_assert_int_ge(b, 0);
            ck_assert_int_le(b, cap);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        /* spread over the whole range, not a constant */
        ck_assert_int_lt(lo, cap / 4);
        ck_assert_int_gt(hi, cap * 3 / 4);
    }
    ck_assert_int_eq(vtev__backoff_ms(3, 0, 2000, VTEV__JITTER_FULL), 0);
}
END_TEST

START_TEST(test_equal_jitter) {
    int i, k;
    for (k = 0; k <= 12; k++) {
        int64_t d = ceiling(k < 1 ? 1 : k, 200, 10000), lo = d, hi = 0;
        for (i = 0; i < 400; i++) {
            int64_t b = vtev__backoff_ms(k, 200, 10000, VTEV__JITTER_EQUAL);
            ck_assert_int_ge(b, d / 2);
            ck_assert_int_le(b, d);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        ck_assert_int_lt(lo, d * 5 / 8);
        ck_assert_int_gt(hi, d * 7 / 8);
    }
    /* attempts below 1 count as the first */
    ck_assert_int_le(vtev__backoff_ms(-3, 200, 10000, VTEV__JITTER_EQUAL), 200);
    /* no delay configured: none, and 1 ms stays 1 ms */
    ck_assert_int_eq(vtev__backoff_ms(4, 0, 10000, VTEV__JITTER_EQUAL), 0);
    ck_assert_int_eq(vtev__backoff_ms(1, 1, 10000, VTEV__JITTER_EQUAL), 1);
    /* a ceiling below the base wins */
    ck_assert_int_le(vtev__backoff_ms(1, 500, 300, VTEV__JITTER_EQUAL), 300);
    ck_assert_int_le(vtev__backoff_ms(1, 500, 300, VTEV__JITTER_FULL), 300);
}
END_TEST

/* The delays of the non-blocking retry tiers: exact (no jitter), capped. */
START_TEST(test_tier_delays) {
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_EXPONENTIAL, 1, 100, 100000), 100);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_EXPONENTIAL, 2, 100, 100000), 200);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_EXPONENTIAL, 4, 100, 100000), 800);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_EXPONENTIAL, 10, 100, 1000), 1000);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_FIXED, 1, 250, 100000), 250);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_FIXED, 7, 250, 100000), 250);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_LINEAR, 1, 250, 100000), 250);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_LINEAR, 3, 250, 100000), 750);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_LINEAR, 3, 250, 600), 600);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_FIXED, 1, 5000, 600), 600);
    ck_assert_int_eq(vtev__tier_delay_ms(VTEV__TIER_LINEAR, 0, 250, 100000), 250);
}
END_TEST

int main(void) {
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("backoff");
    tcase_add_test(tc, test_full_jitter);
    tcase_add_test(tc, test_equal_jitter);
    tcase_add_test(tc, test_tier_delays);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
