/*
 * test_consumer_reader.c - the read-only consumer (consumer.read.only) on the
 * embedded mock cluster and the mock:// registry: reading without a group at
 * each start offset, poison messages handed to the unhandled callback instead
 * of a dead-letter topic, holding a message, end of partition, a reader in a
 * group that commits, and the configuration it refuses.  Every test uses its
 * own mock cluster and registry (unique names).
 */
#include "consumer_testutil.h"
#include <librdkafka/rdkafka_mock.h>
#include "mock_cluster.h"
#include "testutil.h"

#define ARRAY_N(a) (sizeof(a) / sizeof((a)[0]))

typedef ctu_env_t env_t;

static void env_init(env_t *env, const char *name) {
    CTU_ENV_INIT(env, "rdr", name);
}

static ctu_pub_t *env_pub(env_t *env) {
    vtev_conf_t *sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env->mock);
    return ctu_pub_new(env->bootstraps, sc);
}

/* A reader's conf: no group unless given, start at @p start unless NULL. */
static vtev_conf_t *reader_conf(env_t *env, const char *group, const char *start) {
    vtev_conf_t *conf = ctu_conf(env->mock, env->mock, group);
    ctu_set(conf, "consumer.read.only", "true");
    if (start)
        ctu_set(conf, "consumer.start.offset", start);
    return conf;
}

static vtev_consumer_t *reader_new(vtev_conf_t *conf) {
    char e[512];
    vtev_consumer_t *c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    return c;
}

/* ---------------------------------------------------------------- recording */

#define MAX_SEEN 64

typedef struct seen_s {
    char topic[64];
    int32_t partition;
    int64_t offset;
    char key[32];
    vtev_err_t err;        /* unhandled: why; handled: VTEV_ERR_OK */
    char reason[256];
    unsigned char value[64];
    size_t value_len;
    int32_t schema_id;
    int has_test_header;
    char event_id[VTEV_UUID_LEN + 1];
} seen_t;

typedef struct rctx_s {
    seen_t handled[MAX_SEEN];
    size_t handled_cnt;
    seen_t unhandled[MAX_SEEN];
    size_t unhandled_cnt;
    int hold;               /* the unhandled callback holds this many calls */
    vtev_verdict_t verdict; /* the handler's verdict */
    int all_at_end;         /* the eof callback said every partition is at its end */
    int eof_calls;
} rctx_t;

static void seen_fill(seen_t *s, const vtev_msg_info_t *info) {
    size_t i;
    snprintf(s->topic, sizeof(s->topic), "%s", info->topic);
    s->partition = info->partition;
    s->offset = info->offset;
    snprintf(s->key, sizeof(s->key), "%.*s", (int)info->key_len,
             info->key ? (const char *)info->key : "");
    s->schema_id = info->schema_id;
    for (i = 0; i < info->header_cnt; i++)
        if (!strcmp(info->headers[i].name, "test-header") && info->headers[i].value_len == 2 &&
            !memcmp(info->headers[i].value, "h1", 2))
            s->has_test_header = 1;
}

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    rctx_t *x = opaque;
    seen_t *s;
    (void)c;
    ck_assert_uint_lt(x->handled_cnt, MAX_SEEN);
    s = &x->handled[x->handled_cnt++];
    memset(s, 0, sizeof(*s));
    seen_fill(s, info);
    snprintf(s->event_id, sizeof(s->event_id), "%s", ev->u.env.event_id);
    return x->verdict;
}

static vtev_verdict_t unhandled_cb(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                                   const void *value, size_t value_len,
                                   const vtev_msg_info_t *info, void *opaque) {
    rctx_t *x = opaque;
    seen_t *s;
    (void)c;
    ck_assert_ptr_nonnull(reason);
    ck_assert_uint_lt(x->unhandled_cnt, MAX_SEEN);
    s = &x->unhandled[x->unhandled_cnt++];
    memset(s, 0, sizeof(*s));
    seen_fill(s, info);
    s->err = err;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
    s->value_len = value_len;
    if (value)
        memcpy(s->value, value, value_len < sizeof(s->value) ? value_len : sizeof(s->value));
    if (x->hold > 0) {
        x->hold--;
        return VTEV_VERDICT_RETRY_ENV;
    }
    return VTEV_VERDICT_OK;
}

static void eof_cb(vtev_consumer_t *c, const char *topic, int32_t partition, int64_t offset,
                   bool all, void *opaque) {
    rctx_t *x = opaque;
    (void)c;
    ck_assert_ptr_nonnull(topic);
    ck_assert_int_ge(partition, 0);
    ck_assert_int_ge(offset, 0);
    x->eof_calls++;
    x->all_at_end = all;
}

static int at_end(void *arg) {
    return ((rctx_t *)arg)->all_at_end;
}

static rctx_t *rctx_new(void) {
    rctx_t *x = calloc(1, sizeof(*x));
    ck_assert_ptr_nonnull(x);
    x->verdict = VTEV_VERDICT_OK;
    return x;
}

static void reader_callbacks(vtev_consumer_t *c, rctx_t *x) {
    ck_assert_int_eq(vtev_consumer_set_unhandled_cb(c, unhandled_cb, x), VTEV_ERR_OK);
    vtev_consumer_set_eof_cb(c, eof_cb, x);
}

/* The callbacks, and the positions' topic subscribed with handler(). */
static void reader_positions(vtev_consumer_t *c, rctx_t *x) {
    char e[512];
    reader_callbacks(c, x);
    ck_assert_msg(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, handler, x, e,
                                          sizeof(e)) == VTEV_ERR_OK,
                  "subscribe: %s", e);
}

/* Publishes n positions of vessel "v0" (one partition); their ids out. */
static void publish_positions(ctu_pub_t *p, int n, char ids[][VTEV_UUID_LEN + 1]) {
    int i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        ctu_position(&ev, "v0");
        if (ids)
            snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(p, "vessel-position-updates", &ev);
        vtev_event_clear(&ev);
    }
}

/* Reads until every partition is at its end (at most 30 s). */
static void read_to_end(vtev_consumer_t *c, rctx_t *x) {
    ck_assert_msg(ctu_poll_until(c, at_end, x, 30000), "not every partition reached its end");
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_conf_refused) {
    env_t env;
    vtev_conf_t *conf;
    vtev_consumer_t *c;
    char e[512];
    env_init(&env, "conf");

    /* not read-only: a group is needed, and the message says how to read without one */
    conf = ctu_conf(env.mock, env.mock, NULL);
    ck_assert_ptr_null(vtev_consumer_new(conf, e, sizeof(e)));
    ck_assert_str_contains(e, "group.id");
    ck_assert_str_contains(e, "consumer.read.only");
    vtev_conf_destroy(conf);

    /* a start offset is for a reader without group only */
    conf = reader_conf(&env, "g-conf", "beginning");
    ck_assert_ptr_null(vtev_consumer_new(conf, e, sizeof(e)));
    ck_assert_str_contains(e, "consumer.start.offset");
    vtev_conf_destroy(conf);
    conf = ctu_conf(env.mock, env.mock, "g-conf");
    ctu_set(conf, "consumer.start.offset", "end");
    ck_assert_ptr_null(vtev_consumer_new(conf, e, sizeof(e)));
    ck_assert_str_contains(e, "consumer.start.offset");
    vtev_conf_destroy(conf);

    /* values that are not an offset */
    {
        static const char *const bad[] = {"middle", "-0", "3x", "- 3", "99999999999999999999"};
        size_t i;
        for (i = 0; i < ARRAY_N(bad); i++) {
            conf = reader_conf(&env, NULL, bad[i]);
            ck_assert_msg(vtev_consumer_new(conf, e, sizeof(e)) == NULL, "accepted \"%s\"",
                          bad[i]);
            ck_assert_str_contains(e, "consumer.start.offset");
            ck_assert_str_contains(e, bad[i]);
            vtev_conf_destroy(conf);
        }
    }

    /* the unhandled callback belongs to readers: a group consumer dead-letters */
    c = reader_new(ctu_conf(env.mock, env.mock, "g-conf"));
    ck_assert_int_eq(vtev_consumer_set_unhandled_cb(c, unhandled_cb, NULL), VTEV_ERR_STATE);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(vtev_consumer_set_unhandled_cb(NULL, unhandled_cb, NULL),
                     VTEV_ERR_INVALID_ARG);
    vtev_consumer_set_eof_cb(NULL, eof_cb, NULL); /* ignored */

    /* a reader's topic must exist (the mock cluster would create it on the
     * metadata request: it is told to answer as a broker without it does) */
    rd_kafka_mock_topic_set_error(vtev__mock_cluster_get(env.mock + 7), "rdr-no-such-topic",
                                  RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    c = reader_new(reader_conf(&env, NULL, NULL));
    ck_assert_int_eq(vtev_consumer_subscribe_topic(c, "rdr-no-such-topic", e, sizeof(e)),
                     VTEV_ERR_NOT_FOUND);
    ck_assert_str_contains(e, "rdr-no-such-topic");
    vtev_consumer_destroy(c);
}
END_TEST

/* Without a group from the beginning: every event once, in order; the
 * poison messages go to the unhandled callback with their bytes, key and
 * headers, and nothing is written to a dead-letter topic. */
START_TEST(test_poison_to_caller) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    rctx_t *x = rctx_new();
    char ids[4][VTEV_UUID_LEN + 1];
    ctu_dlq_msg_t dl[4];
    char e[512];
    size_t i;

    env_init(&env, "poison");
    pub = env_pub(&env);
    publish_positions(pub, 2, ids);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "not an event", 12);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "\0\0", 2);
    publish_positions(pub, 2, ids + 2);

    c = reader_new(reader_conf(&env, NULL, NULL)); /* consumer.offset.reset earliest */
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 4);
    for (i = 0; i < 4; i++) {
        ck_assert_str_eq(x->handled[i].event_id, ids[i]);
        ck_assert_str_eq(x->handled[i].key, "v0");
        ck_assert_int_gt(x->handled[i].schema_id, 0);
    }
    ck_assert_uint_eq(x->unhandled_cnt, 2);
    ck_assert_int_eq(x->unhandled[0].err, VTEV_ERR_BAD_MAGIC);
    ck_assert_uint_eq(x->unhandled[0].value_len, 12);
    ck_assert(!memcmp(x->unhandled[0].value, "not an event", 12));
    ck_assert_int_eq(x->unhandled[0].offset, x->handled[1].offset + 1);
    ck_assert_int_eq(x->unhandled[0].schema_id, -1);
    ck_assert_int_eq(x->unhandled[1].err, VTEV_ERR_SHORT_BUFFER);
    ck_assert_uint_eq(x->unhandled[1].value_len, 2);
    for (i = 0; i < 2; i++) {
        ck_assert_str_eq(x->unhandled[i].key, "v0");
        ck_assert_str_eq(x->unhandled[i].topic, "vessel-position-updates");
        ck_assert(x->unhandled[i].has_test_header);
    }
    ck_assert_int_gt(x->eof_calls, 0);
    {
        /* no group: no offsets to send to a transaction */
        vtev_conf_t *pc = vtev_conf_new();
        vtev_producer_t *prod;
        ctu_set(pc, "bootstrap.servers", env.mock);
        ctu_set(pc, "schema.registry.url", env.mock);
        prod = vtev_producer_new(pc, e, sizeof(e));
        ck_assert_msg(prod != NULL, "%s", e);
        ck_assert_int_eq(vtev_consumer_txn_send_offsets(c, prod, 1000, e, sizeof(e)),
                         VTEV_ERR_STATE);
        ck_assert_str_contains(e, "group.id");
        vtev_producer_destroy(prod);
    }
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    /* a reader writes nothing */
    ck_assert_uint_eq(ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 2000),
                      0);
    ctu_pub_destroy(pub);
    free(x);
}
END_TEST

/* consumer.start.offset: end (nothing), N (from offset N), -N (the last N). */
START_TEST(test_start_offsets) {
    static const struct {
        const char *start;
        size_t want;
        int64_t first;
    } cases[] = {{"end", 0, -1}, {"beginning", 5, 0}, {"3", 2, 3}, {"-2", 2, 3}, {"-9", 5, 0},
                 {"0", 5, 0}};
    env_t env;
    ctu_pub_t *pub;
    char ids[5][VTEV_UUID_LEN + 1];
    size_t i;

    env_init(&env, "start");
    pub = env_pub(&env);
    publish_positions(pub, 5, ids);
    for (i = 0; i < ARRAY_N(cases); i++) {
        rctx_t *x = rctx_new();
        vtev_consumer_t *c = reader_new(reader_conf(&env, NULL, cases[i].start));
        reader_positions(c, x);
        read_to_end(c, x);
        ck_assert_msg(x->handled_cnt == cases[i].want, "start %s: %zu events, want %zu",
                      cases[i].start, x->handled_cnt, cases[i].want);
        if (cases[i].want) {
            ck_assert_int_eq(x->handled[0].offset, cases[i].first);
            ck_assert_str_eq(x->handled[x->handled_cnt - 1].event_id, ids[4]);
        }
        vtev_consumer_destroy(c);
        free(x);
    }
    ctu_pub_destroy(pub);
}
END_TEST

/* The unhandled callback holds a message (RETRY_ENV): it comes again, and
 * the events after it wait; a message the handler rejects, one whose
 * retries run out and one of a type without handler reach the callback with
 * their reasons. */
START_TEST(test_hold_and_verdicts) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    rctx_t *x = rctx_new();
    char ids[2][VTEV_UUID_LEN + 1];
    char e[512];
    vtev_conf_t *conf;
    vtev_event_t req;

    env_init(&env, "hold");
    pub = env_pub(&env);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "poison", 6);
    publish_positions(pub, 1, ids);
    x->hold = 2;
    c = reader_new(reader_conf(&env, NULL, "beginning"));
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->unhandled_cnt, 3); /* held twice, then taken */
    ck_assert_int_eq(x->unhandled[0].offset, x->unhandled[2].offset);
    ck_assert_int_eq(x->unhandled[1].offset, x->unhandled[2].offset);
    ck_assert_uint_eq(x->handled_cnt, 1);
    ck_assert_int_eq(x->handled[0].offset, x->unhandled[0].offset + 1);
    vtev_consumer_destroy(c);
    free(x);

    /* REJECT and RETRY verdicts, and a type without handler on a raw topic */
    x = rctx_new();
    x->verdict = VTEV_VERDICT_REJECT;
    c = reader_new(reader_conf(&env, NULL, "beginning"));
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 1);
    ck_assert_uint_eq(x->unhandled_cnt, 2);
    ck_assert_int_eq(x->unhandled[1].err, VTEV_ERR_REJECTED);
    ck_assert_int_eq(x->unhandled[1].offset, x->handled[0].offset);
    ck_assert_int_gt(x->unhandled[1].schema_id, 0);
    vtev_consumer_destroy(c);
    free(x);

    x = rctx_new();
    x->verdict = VTEV_VERDICT_RETRY;
    conf = reader_conf(&env, NULL, "1");
    ctu_set(conf, "consumer.retry.max.attempts", "2");
    c = reader_new(conf);
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 2); /* attempts 1 and 2 */
    ck_assert_uint_eq(x->unhandled_cnt, 1);
    ck_assert_int_eq(x->unhandled[0].err, VTEV_ERR_RETRIES_EXHAUSTED);
    ck_assert_str_contains(x->unhandled[0].reason, "consumer.retry.max.attempts");
    vtev_consumer_destroy(c);
    free(x);

    ctu_request(&req, "v7");
    ctu_publish(pub, "prediction-requests", &req);
    vtev_event_clear(&req);
    x = rctx_new();
    c = reader_new(reader_conf(&env, NULL, "beginning"));
    reader_callbacks(c, x);
    ck_assert_int_eq(vtev_consumer_subscribe_topic(c, "prediction-requests", e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_set_handler(c, VTEV_EVENT_POSITION, handler, x), VTEV_ERR_OK);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 0);
    ck_assert_uint_eq(x->unhandled_cnt, 1);
    ck_assert_int_eq(x->unhandled[0].err, VTEV_ERR_NOT_FOUND);
    ck_assert_str_contains(x->unhandled[0].reason, "no handler");
    ck_assert_str_eq(x->unhandled[0].key, "v7");
    vtev_consumer_destroy(c);
    free(x);
    ctu_pub_destroy(pub);
}
END_TEST

/* Two topics subscribed one after the other: the first keeps its position
 * (the second is added to the assignment, not replacing it). */
START_TEST(test_two_topics) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    rctx_t *x = rctx_new();
    char e[512];
    vtev_event_t req;
    size_t i, pos = 0, reqs = 0;

    env_init(&env, "two");
    pub = env_pub(&env);
    publish_positions(pub, 3, NULL);
    ctu_request(&req, "v1");
    ctu_publish(pub, "prediction-requests", &req);
    vtev_event_clear(&req);
    c = reader_new(reader_conf(&env, NULL, "beginning"));
    reader_positions(c, x);
    ctu_poll_for(c, 1000); /* positions are read before the second topic comes */
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, NULL, handler, x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    x->all_at_end = 0;
    read_to_end(c, x);
    for (i = 0; i < x->handled_cnt; i++) {
        if (!strcmp(x->handled[i].topic, "vessel-position-updates"))
            pos++;
        else if (!strcmp(x->handled[i].topic, "prediction-requests"))
            reqs++;
    }
    ck_assert_uint_eq(pos, 3); /* not read again */
    ck_assert_uint_eq(reqs, 1);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(x);
}
END_TEST

/* A reader in a group commits what it handled (poison included): a second
 * reader of the group reads only what came after. */
START_TEST(test_group_commits) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    rctx_t *x = rctx_new();
    char ids[3][VTEV_UUID_LEN + 1];
    char e[512];

    env_init(&env, "grp");
    pub = env_pub(&env);
    publish_positions(pub, 2, ids);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "junk", 4);
    c = reader_new(reader_conf(&env, "g-rdr", NULL));
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 2);
    ck_assert_uint_eq(x->unhandled_cnt, 1);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    free(x);

    publish_positions(pub, 1, ids + 2);
    x = rctx_new();
    c = reader_new(reader_conf(&env, "g-rdr", NULL));
    reader_positions(c, x);
    read_to_end(c, x);
    ck_assert_uint_eq(x->handled_cnt, 1);
    ck_assert_str_eq(x->handled[0].event_id, ids[2]);
    ck_assert_uint_eq(x->unhandled_cnt, 0);
    vtev_consumer_destroy(c);
    free(x);
    ctu_pub_destroy(pub);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 120)

static Suite *reader_suite(void) {
    Suite *s = suite_create("consumer_reader");
    ADD(conf_refused);
    ADD(poison_to_caller);
    ADD(start_offsets);
    ADD(hold_and_verdicts);
    ADD(two_topics);
    ADD(group_commits);
    return s;
}

int main(void) {
    return vtev_test_run(reader_suite());
}
