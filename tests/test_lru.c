/*
 * test_lru.c - the library's LRU map (lib/lru.h), which the registry
 * client's caches, the serde's writer-schema and schema-id caches and the
 * per-thread resolver cache are built on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "testutil.h"

static int freed;

static void count_free(void *v) {
    (void)v;
    freed++;
}

static int *get_int(vtev__lru_t *l, const char *key) {
    return vtev__lru_get(l, key, strlen(key));
}

static void put_int(vtev__lru_t *l, const char *key, int v) {
    ck_assert_ptr_nonnull(vtev__lru_put(l, key, strlen(key), &v));
}

START_TEST(test_least_recently_used_goes) {
    vtev__lru_t *l = vtev__lru_new(3, sizeof(int), count_free);
    freed = 0;
    put_int(l, "a", 1);
    put_int(l, "b", 2);
    put_int(l, "c", 3);
    ck_assert_int_eq(*get_int(l, "a"), 1); /* a is now the most recent: b is the oldest */
    put_int(l, "d", 4);
    ck_assert_uint_eq(vtev__lru_count(l), 3);
    ck_assert_uint_eq(vtev__lru_evictions(l), 1);
    ck_assert_int_eq(freed, 1);
    ck_assert_ptr_null(get_int(l, "b"));
    ck_assert_int_eq(*get_int(l, "a"), 1);
    ck_assert_int_eq(*get_int(l, "c"), 3);
    ck_assert_int_eq(*get_int(l, "d"), 4);
    /* replacing frees the old value, keeps the count, evicts nothing */
    put_int(l, "c", 30);
    ck_assert_int_eq(freed, 2);
    ck_assert_uint_eq(vtev__lru_count(l), 3);
    ck_assert_uint_eq(vtev__lru_evictions(l), 1);
    ck_assert_int_eq(*get_int(l, "c"), 30);
    /* the replaced entry became the most recent: a is the oldest now */
    put_int(l, "e", 5);
    ck_assert_ptr_null(get_int(l, "a"));
    vtev__lru_destroy(l);
    ck_assert_int_eq(freed, 2 + 1 + 3); /* a evicted, then three destroyed */
}
END_TEST

START_TEST(test_remove_prefix_clear) {
    vtev__lru_t *l = vtev__lru_new(10, sizeof(int), count_free);
    freed = 0;
    put_int(l, "s1\n1", 1);
    put_int(l, "s1\n2", 2);
    put_int(l, "s10\n1", 3);
    put_int(l, "s2\n1", 4);
    ck_assert(vtev__lru_remove(l, "s2\n1", 4));
    ck_assert(!vtev__lru_remove(l, "s2\n1", 4));
    vtev__lru_remove_prefix(l, "s1\n", 3);
    ck_assert_uint_eq(vtev__lru_count(l), 1);
    ck_assert_int_eq(*get_int(l, "s10\n1"), 3);
    ck_assert_int_eq(freed, 3);
    vtev__lru_remove_prefix(l, "s10\n1 and more", 14); /* longer than the key: no match */
    ck_assert_uint_eq(vtev__lru_count(l), 1);
    vtev__lru_clear(l);
    ck_assert_uint_eq(vtev__lru_count(l), 0);
    ck_assert_int_eq(freed, 4);
    ck_assert_uint_eq(vtev__lru_evictions(l), 0); /* removals are not evictions */
    put_int(l, "x", 9); /* usable after clear */
    ck_assert_int_eq(*get_int(l, "x"), 9);
    vtev__lru_destroy(l);
}
END_TEST

/* Keys are bytes: a NUL inside a key, or keys of different lengths with the
 * same start, are different keys. */
START_TEST(test_binary_keys) {
    vtev__lru_t *l = vtev__lru_new(8, sizeof(int), NULL);
    int one = 1, two = 2, three = 3;
    ck_assert_ptr_nonnull(vtev__lru_put(l, "a\0b", 3, &one));
    ck_assert_ptr_nonnull(vtev__lru_put(l, "a\0c", 3, &two));
    ck_assert_ptr_nonnull(vtev__lru_put(l, "a", 1, &three));
    ck_assert_int_eq(*(int *)vtev__lru_get(l, "a\0b", 3), 1);
    ck_assert_int_eq(*(int *)vtev__lru_get(l, "a\0c", 3), 2);
    ck_assert_int_eq(*(int *)vtev__lru_get(l, "a", 1), 3);
    ck_assert_ptr_null(vtev__lru_get(l, "a\0", 2));
    vtev__lru_destroy(l);
}
END_TEST

/* Many entries (the table grows) and values larger than a pointer, aligned. */
typedef struct {
    double d;
    int64_t n;
    char s[13];
} big_t;

START_TEST(test_grows_and_keeps_values) {
    vtev__lru_t *l = vtev__lru_new(5000, sizeof(big_t), NULL);
    char key[32];
    int i;
    for (i = 0; i < 6000; i++) {
        big_t v;
        memset(&v, 0, sizeof(v));
        v.d = i / 2.0;
        v.n = i;
        snprintf(v.s, sizeof(v.s), "v%d", i);
        snprintf(key, sizeof(key), "key-%d", i);
        ck_assert_ptr_nonnull(vtev__lru_put(l, key, strlen(key), &v));
    }
    ck_assert_uint_eq(vtev__lru_count(l), 5000);
    ck_assert_uint_eq(vtev__lru_evictions(l), 1000);
    for (i = 0; i < 6000; i++) {
        big_t *v;
        snprintf(key, sizeof(key), "key-%d", i);
        v = vtev__lru_get(l, key, strlen(key));
        if (i < 1000) {
            ck_assert_ptr_null(v);
            continue;
        }
        ck_assert_ptr_nonnull(v);
        ck_assert_uint_eq((uintptr_t)v % _Alignof(big_t), 0);
        ck_assert_int_eq(v->n, i);
        ck_assert(v->d == i / 2.0);
        snprintf(key, sizeof(key), "v%d", i);
        ck_assert_str_eq(v->s, key);
    }
    vtev__lru_destroy(l);
}
END_TEST

START_TEST(test_capacity_zero_is_one) {
    vtev__lru_t *l = vtev__lru_new(0, sizeof(int), NULL);
    put_int(l, "a", 1);
    put_int(l, "b", 2);
    ck_assert_uint_eq(vtev__lru_count(l), 1);
    ck_assert_ptr_null(get_int(l, "a"));
    ck_assert_int_eq(*get_int(l, "b"), 2);
    vtev__lru_destroy(l);
    vtev__lru_destroy(NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("lru");
    TCase *tc = tcase_create("lru");
    tcase_add_test(tc, test_least_recently_used_goes);
    tcase_add_test(tc, test_remove_prefix_clear);
    tcase_add_test(tc, test_binary_keys);
    tcase_add_test(tc, test_grows_and_keeps_values);
    tcase_add_test(tc, test_capacity_zero_is_one);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
