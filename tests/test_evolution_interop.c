/*
 * test_evolution_interop.c - schema evolution against a real peer: Python's
 * confluent-kafka (AvroSerializer, registered in the real Schema Registry)
 * writes requests whose priority enum has its symbols re-ordered and one
 * more ("urgent"); the library's typed consumer must read each by symbol,
 * give "urgent" the reader's enum default ("normal"), and dead-letter none.
 * Needs the stack (KAFKA_BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL) and
 * $VTEV_PYTHON with confluent-kafka.
 */
#include "consumer_testutil.h"
#include "testutil.h"

#include <stdatomic.h>

static const char *bootstraps, *registry;

typedef struct {
    atomic_int n;
    char ids[8][80];
    vtev_priority_t prio[8];
} seen_t;

static vtev_verdict_t on_request(vtev_consumer_t *c, const vtev_event_t *ev, const vtev_msg_info_t *info,
                                 void *opaque) {
    seen_t *s = opaque;
    int i = atomic_load(&s->n);
    (void)c, (void)info;
    if (i < 8) {
        snprintf(s->ids[i], sizeof(s->ids[i]), "%s", ev->u.request.request_id);
        s->prio[i] = ev->u.request.data.priority;
        atomic_store(&s->n, i + 1);
    }
    return VTEV_VERDICT_OK;
}

static int have4(void *arg) {
    return atomic_load(&((seen_t *)arg)->n) >= 4;
}

START_TEST(test_python_evolved_enum) {
    char topic[128], dlq[140], group[160], cmd[2048], e[512];
    const char *py = getenv("VTEV_PYTHON");
    seen_t *s = calloc(1, sizeof(*s));
    vtev_consumer_t *c;
    int i, j;
    static const struct {
        const char *id;
        vtev_priority_t want;
    } expect[] = {{"req-00000000", VTEV_PRIORITY_HIGH},
                  {"req-00000001", VTEV_PRIORITY_NORMAL},
                  {"req-00000002", VTEV_PRIORITY_LOW},
                  {"req-00000003", VTEV_PRIORITY_NORMAL}}; /* "urgent": the reader's default */
    snprintf(topic, sizeof(topic), "evo-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(group, sizeof(group), "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 1);
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' '%s' '%s' '%s/prediction.analysis.requested.avsc'",
             py ? py : "python3", VTEV_PEER, bootstraps, registry, topic, VTEV_SCHEMA_DIR);
    ck_assert_msg(system(cmd) == 0, "the Python writer failed: %s", cmd);
    c = vtev_consumer_new(ctu_conf(bootstraps, registry, group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, topic, on_request, s, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, have4, s, 60000), "handled %d of 4", atomic_load(&s->n));
    ctu_poll_for(c, 1000);
    vtev_consumer_destroy(c);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < atomic_load(&s->n) && strcmp(s->ids[j], expect[i].id); j++)
            ;
        ck_assert_msg(j < atomic_load(&s->n), "%s was not handled", expect[i].id);
        ck_assert_msg(s->prio[j] == expect[i].want, "%s: read as %s, written as the %d-th symbol", expect[i].id,
                      vtev_priority_name(s->prio[j]), i);
    }
    ck_assert_int_eq(atomic_load(&s->n), 4);
    ck_assert_int_eq(ctu_topic_count(bootstraps, dlq, 1), 0);
    free(s);
}
END_TEST

int main(void) {
    Suite *su = suite_create("evolution_interop");
    TCase *tc = tcase_create("python");
    bootstraps = getenv("KAFKA_BOOTSTRAP_SERVERS");
    registry = getenv("SCHEMA_REGISTRY_URL");
    if (!bootstraps || !registry || !*bootstraps || !*registry) {
        fprintf(stderr, "KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL not set: run ./run test\n");
        return 77;
    }
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_python_evolved_enum);
    suite_add_tcase(su, tc);
    return vtev_test_run(su);
}
