/*
 * test_threads.c - errors on concurrent paths carry their own text.  Debian's
 * avro-c keeps one error buffer for all threads (avro_strerror); four
 * threads that each parse their own bad schema must each get the message
 * that names their own mistake, never another thread's.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vtevents/event.h>

#define THREADS 4
#define ROUNDS 3000

typedef struct {
    int idx;
    int wrong;
    char last[512];
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    char schema[256], want[32], err[512];
    int i;
    snprintf(want, sizeof(want), "Nope%d", w->idx);
    snprintf(schema, sizeof(schema),
             "{\"type\":\"record\",\"name\":\"R%d\",\"fields\":[{\"name\":\"f\",\"type\":\"%s\"}]}", w->idx,
             want);
    for (i = 0; i < ROUNDS; i++) {
        vtev_schema_t *s;
        err[0] = 0;
        s = vtev_schema_new(schema, strlen(schema), err, sizeof(err));
        if (s) {
            vtev_schema_destroy(s);
            w->wrong++;
        } else if (!strstr(err, want)) {
            w->wrong++;
            snprintf(w->last, sizeof(w->last), "%s", err);
        }
    }
    return NULL;
}

START_TEST(test_schema_errors_per_thread) {
    pthread_t th[THREADS];
    worker_t w[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].idx = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < THREADS; i++)
        ck_assert_msg(w[i].wrong == 0, "thread %d: %d of %d errors did not name Nope%d, e.g. \"%s\"", i, w[i].wrong,
                      ROUNDS, i, w[i].last);
}
END_TEST

int main(void) {
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_schema_errors_per_thread);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
