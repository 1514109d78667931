/*
 * test_dtoa.c - doubles print in the shortest form that reads back exactly,
 * as Python's repr() prints them: 200,000 random bit patterns (and edge
 * cases) are sent to python3 as hex floats and its repr() is compared with
 * ours (plus the ".0" that repr adds to integral values, as the JSON writer
 * does).
 */
#include "event_int.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 200000

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

START_TEST(test_matches_python_repr) {
    static const double fixed[] = {0.1 + 0.7, 0.1, 1.0 / 3, 1e15, 1e16, 123456789012345678.0, 1e-4, 1e-5,
                                   5e-324, 1.7976931348623157e308, 2.5, -0.0, 91, -90, 29.7604, 1e22, 0.3};
    const char *py = getenv("VTEV_PYTHON");
    char in_path[] = "/tmp/vtev-dtoa-in-XXXXXX", cmd[512], ours[64], theirs[128];
    FILE *f, *p;
    double *vals = malloc(N * sizeof(double));
    int fd = mkstemp(in_path), i, nvals = 0, mismatches = 0;
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    for (i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
        vals[nvals++] = fixed[i];
    while (nvals < N) {
        uint64_t bits = next();
        double d;
        if (nvals % 2) { /* also "ordinary" values: a few digits, varied scale */
            d = (double)(int64_t)(next() % 2000000 - 1000000) / pow(10, (double)(next() % 12));
        } else {
            memcpy(&d, &bits, sizeof(d));
            if (!isfinite(d))
                continue;
        }
        vals[nvals++] = d;
    }
    for (i = 0; i < nvals; i++)
        fprintf(f, "%a\n", vals[i]);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "'%s' -c 'import sys\nfor l in open(sys.argv[1]): print(repr(float.fromhex(l)))' '%s'",
             py && *py ? py : "python3", in_path);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    for (i = 0; i < nvals; i++) {
        size_t n;
        ck_assert_msg(fgets(theirs, sizeof(theirs), p) != NULL, "python stopped at %d", i);
        theirs[strcspn(theirs, "\n")] = 0;
        vtev__dtoa(vals[i], ours, sizeof(ours) - 2);
        n = strlen(ours);
        if (!strpbrk(ours, ".eE"))
            memcpy(ours + n, ".0", 3);
        if (strcmp(ours, theirs) && mismatches++ < 10)
            fprintf(stderr, "%a: ours %s, python %s\n", vals[i], ours, theirs);
    }
    ck_assert_int_eq(pclose(p), 0);
    unlink(in_path);
    free(vals);
    ck_assert_msg(mismatches == 0, "%d of %d differ from Python's repr", mismatches, nvals);
}
END_TEST

START_TEST(test_validation_text) {
    char b[40];
    ck_assert_str_eq(vtev__dtoa(91, b, sizeof(b)), "91");
    ck_assert_str_eq(vtev__dtoa(-180.5, b, sizeof(b)), "-180.5");
    ck_assert_str_eq(vtev__dtoa(0.1 + 0.7, b, sizeof(b)), "0.7999999999999999");
    ck_assert_str_eq(vtev__dtoa(NAN, b, sizeof(b)), "NaN");
    ck_assert_str_eq(vtev__dtoa(-INFINITY, b, sizeof(b)), "-inf");
}
END_TEST

int main(void) {
    Suite *s = suite_create("dtoa");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_matches_python_repr);
    tcase_add_test(tc, test_validation_text);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
