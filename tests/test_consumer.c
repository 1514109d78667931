/*
 * test_consumer.c - the typed consumer on the embedded mock cluster and the
 * mock:// registry: delivery, retries, dead letters, stop, lag, counters.
 * Every test uses its own mock cluster and registry (unique names).
 */
#include <signal.h>
#include <stdatomic.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "registry_int.h"
#include "testutil.h"

typedef ctu_env_t env_t;

static void env_init(env_t *env, const char *name) {
    CTU_ENV_INIT(env, "cons", name);
}

static vtev_conf_t *env_conf(env_t *env) {
    return ctu_conf(env->mock, env->mock, env->group);
}

static ctu_pub_t *env_pub(env_t *env) {
    vtev_conf_t *sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env->mock);
    return ctu_pub_new(env->bootstraps, sc);
}

static vtev_consumer_t *env_consumer(env_t *env, vtev_conf_t *conf) {
    char e[512];
    vtev_consumer_t *c = vtev_consumer_new(conf ? conf : env_conf(env), e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    return c;
}

/* Publishes n position events with vessel keys v0..v(k-1); ids out (may be NULL). */
static void publish_positions(ctu_pub_t *p, int n, int keys, char ids[][VTEV_UUID_LEN + 1]) {
    int i;
    for (i = 0; i < n; i++) {
        vtev_event_t ev;
        char vessel[32];
        snprintf(vessel, sizeof(vessel), "v%d", keys > 0 ? i % keys : i);
        ctu_position(&ev, vessel);
        if (ids)
            snprintf(ids[i], VTEV_UUID_LEN + 1, "%s", ev.u.env.event_id);
        ctu_publish(p, "vessel-position-updates", &ev);
        vtev_event_clear(&ev);
    }
}

/* ---------------------------------------------------------------- handlers */

typedef struct hctx_s {
    ctu_rec_t rec;
    char target[VTEV_UUID_LEN + 1]; /* the event that gets special treatment */
    int retries_before_ok;          /* RETRY this many times, then OK; -1: forever */
    int reject;                     /* REJECT the target */
    int attempts_seen[16];
    int target_calls;
    int32_t last_schema_id;
    int saw_header;
    size_t want;
    vtev_consumer_t *stop_after_c;
    size_t stop_after;
} hctx_t;

static vtev_verdict_t record_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                     const vtev_msg_info_t *info, void *opaque) {
    hctx_t *h = opaque;
    size_t i;
    (void)c;
    ck_assert_ptr_nonnull(info->topic);
    ck_assert_int_ge(info->offset, 0);
    h->last_schema_id = info->schema_id;
    for (i = 0; i < info->header_cnt; i++)
        if (!strcmp(info->headers[i].name, "test-header") && info->headers[i].value_len == 2 &&
            !memcmp(info->headers[i].value, "h1", 2))
            h->saw_header = 1;
    ck_assert_uint_eq(info->key_len, strlen(ev->u.env.vessel_id));
    ck_assert(!memcmp(info->key, ev->u.env.vessel_id, info->key_len));
    if (h->target[0] && !strcmp(ev->u.env.event_id, h->target)) {
        if (h->target_calls < 16)
            h->attempts_seen[h->target_calls] = info->attempt;
        h->target_calls++;
        if (h->reject)
            return VTEV_VERDICT_REJECT;
        if (h->retries_before_ok < 0 || info->attempt <= h->retries_before_ok)
            return VTEV_VERDICT_RETRY;
    }
    ctu_rec_add(&h->rec, ev->u.env.event_id, info->attempt);
    if (h->stop_after_c && h->rec.total >= h->stop_after)
        vtev_consumer_stop(h->stop_after_c);
    return VTEV_VERDICT_OK;
}

static int have_want(void *arg) {
    hctx_t *h = arg;
    return ctu_rec_distinct(&h->rec) >= h->want;
}

static hctx_t *hctx_new(void) {
    hctx_t *h = calloc(1, sizeof(*h));
    ck_assert_ptr_nonnull(h);
    ctu_rec_init(&h->rec);
    return h;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_group_id_required) {
    vtev_conf_t *conf = ctu_conf("mock://cons-nogroup", "mock://cons-nogroup", NULL);
    char e[512];
    ck_assert_ptr_null(vtev_consumer_new(conf, e, sizeof(e)));
    ck_assert_str_contains(e, "group.id");
    vtev_conf_destroy(conf); /* still ours after a failure */
    ck_assert_ptr_null(vtev_consumer_new(NULL, e, sizeof(e)));
    vtev_consumer_destroy(NULL);
}
END_TEST

START_TEST(test_subscribe_args) {
    env_t env;
    vtev_consumer_t *c;
    char e[512];
    env_init(&env, "subargs");
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_NONE, NULL, record_handler, NULL, e,
                                             sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, NULL, NULL, e,
                                             sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_subscribe_topic(c, "", e, sizeof(e)), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_poll(c, 0, e, sizeof(e)), VTEV_ERR_STATE);
    vtev_consumer_destroy(c);
}
END_TEST

/* Everything published is handled exactly once; a restarted member of the
 * group continues after the committed offsets. */
START_TEST(test_all_handled_once) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char ids[40][VTEV_UUID_LEN + 1];
    vtev_consumer_stats_t st;
    char e[512];
    size_t i;

    env_init(&env, "once");
    pub = env_pub(&env);
    publish_positions(pub, 30, 7, ids); /* published before the group ever joined */
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 30;
    ck_assert_msg(ctu_poll_until(c, have_want, h, 30000), "handled %zu of 30",
                  ctu_rec_distinct(&h->rec));
    ctu_poll_for(c, 500);
    for (i = 0; i < 30; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_uint_eq(h->rec.total, 30);
    ck_assert(h->saw_header);
    ck_assert_int_gt(h->last_schema_id, 0);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.consumed, 30);
    ck_assert_uint_eq(st.ok, 30);
    ck_assert_uint_eq(st.retried + st.rejected + st.dead_lettered, 0);
    ck_assert_uint_ge(st.handler_time_us, st.handler_max_us);
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);

    /* restart: only the new events are handled */
    publish_positions(pub, 10, 3, ids + 30);
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 40;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ctu_poll_for(c, 500);
    for (i = 0; i < 40; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_uint_eq(h->rec.total, 40);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* RETRY twice then OK: the handler sees the event 3 times (attempts 1, 2, 3),
 * nothing is dead-lettered, and the other events are all handled. */
START_TEST(test_retry_then_ok) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char ids[12][VTEV_UUID_LEN + 1];
    vtev_consumer_stats_t st;
    char e[512];
    size_t i;

    env_init(&env, "retryok");
    pub = env_pub(&env);
    publish_positions(pub, 12, 3, ids);
    snprintf(h->target, sizeof(h->target), "%s", ids[3]);
    h->retries_before_ok = 2;
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 12;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ctu_poll_for(c, 800);
    ck_assert_int_eq(h->target_calls, 3);
    ck_assert_int_eq(h->attempts_seen[0], 1);
    ck_assert_int_eq(h->attempts_seen[1], 2);
    ck_assert_int_eq(h->attempts_seen[2], 3);
    for (i = 0; i < 12; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.retried, 2);
    ck_assert_uint_eq(st.ok, 12);
    ck_assert_uint_eq(st.consumed, 14);
    ck_assert_uint_eq(st.dead_lettered, 0);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* RETRY forever: after consumer.retry.max.attempts the event is in the DLQ
 * with its original key and value and the vtev.* headers; later events of
 * the same partition are handled. */
START_TEST(test_retry_forever_dead_letters) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    char ids[6][VTEV_UUID_LEN + 1];
    ctu_dlq_msg_t dl[4];
    char b[256];
    size_t n, i;
    vtev_consumer_stats_t st;
    char e[512];
    int32_t sid = 0;
    const void *payload;
    size_t plen;
    vtev_event_t dec;

    env_init(&env, "retryforever");
    pub = env_pub(&env);
    publish_positions(pub, 6, 1, ids); /* one key: one partition, in order */
    snprintf(h->target, sizeof(h->target), "%s", ids[1]);
    h->retries_before_ok = -1;
    conf = env_conf(&env);
    ctu_set(conf, "consumer.retry.max.attempts", "3");
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 5;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ctu_poll_for(c, 500);
    ck_assert_int_eq(h->target_calls, 3);
    ck_assert_int_eq(ctu_rec_count(&h->rec, ids[1]), 0);
    for (i = 0; i < 6; i++)
        if (i != 1)
            ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 1);
    ck_assert_uint_eq(st.retried, 2);

    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(dl[0].key, "v0");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "RETRIES_EXHAUSTED");
    ck_assert_str_contains(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)),
                           "consumer.retry.max.attempts");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.topic", b, sizeof(b)),
                     "vessel-position-updates");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.attempts", b, sizeof(b)), "3");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.offset", b, sizeof(b)), "1");
    ctu_hdr(&dl[0], "vtev.original.partition", b, sizeof(b));
    ck_assert(b[0] >= '0' && b[0] <= '9');
    ctu_hdr(&dl[0], "vtev.dlq.time", b, sizeof(b));
    ck_assert_uint_eq(strlen(b), 24); /* 2026-01-10T15:30:00.000Z */
    ck_assert_int_eq(b[10], 'T');
    ck_assert_int_eq(b[23], 'Z');
    ck_assert_str_eq(ctu_hdr(&dl[0], "test-header", b, sizeof(b)), "h1");
    /* the value is the original framed event, unchanged */
    ck_assert_int_eq(vtev_frame_parse(dl[0].value, dl[0].len, &sid, &payload, &plen, e,
                                      sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_serde_deserialize(pub->serde, "vessel-position-updates",
                                            VTEV_EVENT_POSITION, dl[0].value, dl[0].len, &dec,
                                            NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_str_eq(dec.u.env.event_id, ids[1]);
    vtev_event_clear(&dec);
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* Raw garbage lands in the DLQ with its original bytes; the valid events
 * after it (same partition) are handled. */
START_TEST(test_garbage_dead_lettered) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char ids[3][VTEV_UUID_LEN + 1];
    ctu_dlq_msg_t dl[8];
    char b[256];
    size_t n, i;
    char e[512];
    static const unsigned char unknown_id[] = {0, 0x7f, 0xff, 0xff, 0x01, 2, 4, 6};
    vtev_conf_t *conf;
    static const unsigned char bad_avro[] = {0, 0, 0, 0, 0, 0xff};
    vtev_consumer_stats_t st;
    int found[4] = {0, 0, 0, 0};

    env_init(&env, "garbage");
    pub = env_pub(&env);
    publish_positions(pub, 1, 1, ids); /* registers the schema (id 1 or so) */
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "not an event", 12);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "\0\0", 2);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", unknown_id, sizeof(unknown_id));
    publish_positions(pub, 2, 1, ids + 1);
    conf = env_conf(&env);
    /* the unknown id is re-checked this long (a lagging replica), then dead-lettered */
    ctu_set(conf, "consumer.schema.not.found.retry.ms", "300");
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 3;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 8, 5000);
    ck_assert_uint_eq(n, 3);
    for (i = 0; i < n; i++) {
        ck_assert_str_eq(dl[i].key, "v0");
        ctu_hdr(&dl[i], "vtev.error.code", b, sizeof(b));
        if (dl[i].len == 12 && !memcmp(dl[i].value, "not an event", 12)) {
            ck_assert_str_eq(b, "BAD_MAGIC");
            found[0] = 1;
        } else if (dl[i].len == 2 && !memcmp(dl[i].value, "\0\0", 2)) {
            ck_assert_str_eq(b, "SHORT_BUFFER");
            found[1] = 1;
        } else if (dl[i].len == sizeof(unknown_id) &&
                   !memcmp(dl[i].value, unknown_id, sizeof(unknown_id))) {
            ck_assert_str_eq(b, "REGISTRY_SCHEMA_NOT_FOUND");
            found[2] = 1;
        }
        ck_assert_str_eq(ctu_hdr(&dl[i], "vtev.attempts", b, sizeof(b)), "1");
    }
    ck_assert(found[0] && found[1] && found[2]);
    ctu_dlq_free(dl, n);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 3);
    ck_assert_uint_eq(st.ok, 3);

    /* bytes framed with a known id that do not decode */
    {
        ctu_pub_t *p2 = pub;
        unsigned char buf[sizeof(bad_avro)];
        memcpy(buf, bad_avro, sizeof(buf));
        vtev_frame_write_header(buf, h->last_schema_id);
        ctu_publish_raw(p2, "vessel-position-updates", "v0", buf, sizeof(buf));
        publish_positions(p2, 1, 1, ids);
        h->want = 4;
        ck_assert(ctu_poll_until(c, have_want, h, 30000));
        n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 8, 3000);
        ck_assert_uint_eq(n, 4);
        ck_assert_uint_eq(dl[3].len, sizeof(buf));
        ck_assert(!memcmp(dl[3].value, buf, sizeof(buf)));
        ck_assert_str_eq(ctu_hdr(&dl[3], "vtev.error.code", b, sizeof(b)), "DECODE");
        ctu_dlq_free(dl, n);
    }
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* A hostile writer schema: the position schema plus an array of records of
 * 5,000 null fields, and a 40-byte message that claims 6,000,000 such items
 * (no bytes each).  It is dead-lettered with code LIMIT and a reason naming
 * avro.max.values, and the events around it are handled. */
START_TEST(test_hostile_writer_limit) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_registry_t *reg;
    vtev_conf_t *rc = vtev_conf_new();
    hctx_t *h = hctx_new();
    char ids[2][VTEV_UUID_LEN + 1], e[512], b[512];
    const char *pos = vtev_schema_json(vtev_event_schema(VTEV_EVENT_POSITION));
    size_t cap = strlen(pos) + 5000 * 40 + 256, n, i, len = 0;
    char *hostile = malloc(cap);
    unsigned char *msg;
    void *payload = NULL;
    vtev_event_t ev;
    int32_t id = -1;
    ctu_dlq_msg_t dl[4];
    const char *end = strrchr(pos, ']'); /* the end of the top-level fields */
    env_init(&env, "hostile");
    n = (size_t)(end - pos);
    memcpy(hostile, pos, n);
    n += (size_t)snprintf(hostile + n, cap - n,
                          ",{\"name\":\"wide\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
                          "\"name\":\"W\",\"fields\":[");
    for (i = 0; i < 5000; i++)
        n += (size_t)snprintf(hostile + n, cap - n, "%s{\"name\":\"n%zu\",\"type\":\"null\"}", i ? "," : "", i);
    n += (size_t)snprintf(hostile + n, cap - n, "]}}}]%s", end + 1);
    ctu_set(rc, "schema.registry.url", env.mock);
    reg = vtev_registry_new(rc, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    ck_assert_msg(vtev_registry_register(reg, "vessel-position-updates-value", hostile, &id, e, sizeof(e)) ==
                      VTEV_ERR_OK, "%s", e);
    ctu_position(&ev, "v0");
    ck_assert_int_eq(vtev_event_encode(&ev, id, &payload, &len, e, sizeof(e)), VTEV_ERR_OK);
    vtev_event_clear(&ev);
    msg = malloc(len + 16);
    memcpy(msg, payload, len);
    vtev_free(payload);
    for (i = 0; i < 3; i++) { /* three blocks of 2,000,000 items */
        uint64_t z = 4000000;
        while (z >= 0x80) {
            msg[len++] = (unsigned char)(z | 0x80);
            z >>= 7;
        }
        msg[len++] = (unsigned char)z;
    }
    msg[len++] = 0;
    pub = env_pub(&env);
    publish_positions(pub, 1, 1, ids);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", msg, len);
    publish_positions(pub, 1, 1, ids + 1);
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e, sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 2;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "LIMIT");
    ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b));
    ck_assert_msg(strstr(b, "avro.max.values"), "%s", b);
    ck_assert_uint_eq(dl[0].len, len);
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    vtev_registry_destroy(reg); /* owns rc */
    free(msg);
    free(hostile);
    free(h);
}
END_TEST

/* Dead letters: original headers cannot plant vtev.* reasons or origins;
 * the reason text is escaped (no raw control bytes from the data); the
 * group and the original timestamp are recorded. */
START_TEST(test_dlq_headers_safe) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char ids[1][VTEV_UUID_LEN + 1], e[512], b[512];
    void *buf = NULL;
    size_t len = 0, n, i;
    unsigned char *evil;
    vtev_event_t ev;
    ctu_dlq_msg_t dl[4];
    static const char attack[] = "evil\n\x1b[2J\xff\x01xxxxxxxxxxxx"; /* 23 bytes, as vessel.position.updated */
    rd_kafka_resp_err_t kerr;
    int spoofed = 0, kept = 0;
    env_init(&env, "dlqsafe");
    pub = env_pub(&env);
    publish_positions(pub, 1, 1, ids); /* registers the schema */
    ctu_position(&ev, "v0");
    ck_assert_int_eq(vtev_serde_serialize(pub->serde, "vessel-position-updates", &ev, &buf, &len, NULL, e, sizeof(e)),
                     VTEV_ERR_OK);
    vtev_event_clear(&ev);
    evil = malloc(len);
    memcpy(evil, buf, len);
    vtev_free(buf);
    ck_assert_uint_eq(sizeof(attack) - 1, 23);
    ck_assert_int_eq(evil[5 + 1 + VTEV_UUID_LEN], 46); /* zigzag 23 */
    memcpy(evil + 5 + 1 + VTEV_UUID_LEN + 1, attack, 23);
    kerr = rd_kafka_producev(pub->rk, RD_KAFKA_V_TOPIC("vessel-position-updates"),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY("v0", 2),
                             RD_KAFKA_V_VALUE(evil, len), RD_KAFKA_V_HEADER("vtev.error.code", "FAKE", 4),
                             RD_KAFKA_V_HEADER("vtev.original.topic", "elsewhere", 9),
                             RD_KAFKA_V_HEADER("traceparent", "00-abc-def-01", 13), RD_KAFKA_V_END);
    ck_assert(!kerr);
    ck_assert_int_eq(rd_kafka_flush(pub->rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
    publish_positions(pub, 1, 1, ids); /* after it, same partition */
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e, sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 2;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    {
        const char *hn;
        const void *hv;
        size_t hl;
        for (i = 0; rd_kafka_header_get_all(dl[0].hdrs, i, &hn, &hv, &hl) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            if (!strcmp(hn, "vtev.error.code") && hl == 4 && !memcmp(hv, "FAKE", 4))
                spoofed++;
            if (!strcmp(hn, "vtev.original.topic") && hl == 9)
                spoofed++;
            if (!strcmp(hn, "traceparent"))
                kept++;
        }
    }
    ck_assert_int_eq(spoofed, 0);
    ck_assert_int_eq(kept, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "DECODE");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.topic", b, sizeof(b)), "vessel-position-updates");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.consumer.group", b, sizeof(b)), env.group);
    ck_assert_ptr_nonnull(strstr(ctu_hdr(&dl[0], "vtev.original.timestamp", b, sizeof(b)), "T"));
    ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b));
    ck_assert_msg(strstr(b, "evil\\x0a\\x1b[2J\\xff\\x01"), "%s", b);
    for (i = 0; b[i]; i++)
        ck_assert_msg((unsigned char)b[i] >= 0x20 && (unsigned char)b[i] != 0x7f, "raw byte %02x in %s",
                      (unsigned char)b[i], b);
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(evil);
    free(h);
}
END_TEST

/* A decoded event that fails validation, and a REJECT verdict, go to the DLQ. */
START_TEST(test_invalid_and_reject) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char ids[3][VTEV_UUID_LEN + 1];
    vtev_event_t bad;
    ctu_dlq_msg_t dl[4];
    char b[256];
    size_t n;
    char e[512];

    env_init(&env, "invalid");
    pub = env_pub(&env);
    ctu_position(&bad, "v0");
    bad.u.position.data.lat = 91.0;
    ctu_publish(pub, "vessel-position-updates", &bad);
    vtev_event_clear(&bad);
    publish_positions(pub, 3, 1, ids);
    snprintf(h->target, sizeof(h->target), "%s", ids[1]);
    h->reject = 1;
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 2;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ck_assert_int_eq(ctu_rec_count(&h->rec, ids[0]), 1);
    ck_assert_int_eq(ctu_rec_count(&h->rec, ids[2]), 1);
    ck_assert_int_eq(h->target_calls, 1);
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "INVALID");
    ck_assert_str_contains(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)), "data.lat");
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.original.offset", b, sizeof(b)), "0");
    ck_assert_str_eq(ctu_hdr(&dl[1], "vtev.error.code", b, sizeof(b)), "REJECTED");
    ck_assert_str_eq(ctu_hdr(&dl[1], "vtev.original.offset", b, sizeof(b)), "2");
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* A raw topic is dispatched by the writer schema; a type without handler is
 * dead-lettered with NOT_FOUND. */
START_TEST(test_raw_topic_dispatch) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *sc;
    hctx_t *h = hctx_new();
    vtev_event_t ev;
    char pos_id[VTEV_UUID_LEN + 1];
    ctu_dlq_msg_t dl[4];
    char b[256];
    size_t n;
    char e[512];

    env_init(&env, "raw");
    rd_kafka_mock_topic_create(vtev__mock_cluster_get(env.mock + 7), "mixed-events", 2, 1);
    rd_kafka_mock_topic_create(vtev__mock_cluster_get(env.mock + 7), "mixed-events.dlq", 1, 1);
    sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", env.mock);
    ctu_set(sc, "subject.name.strategy", "topic-record");
    pub = ctu_pub_new(env.bootstraps, sc);
    ctu_request(&ev, "v1");
    ctu_publish(pub, "mixed-events", &ev);
    vtev_event_clear(&ev);
    ctu_position(&ev, "v1");
    snprintf(pos_id, sizeof(pos_id), "%s", ev.u.env.event_id);
    ctu_publish(pub, "mixed-events", &ev);
    vtev_event_clear(&ev);

    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_set_handler(c, VTEV_EVENT_POSITION, record_handler, h),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_subscribe_topic(c, "mixed-events", e, sizeof(e)), VTEV_ERR_OK);
    h->want = 1;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ck_assert_int_eq(ctu_rec_count(&h->rec, pos_id), 1);
    n = ctu_read_topic(env.bootstraps, "mixed-events.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)), "NOT_FOUND");
    ck_assert_str_contains(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)),
                           "prediction.analysis.requested");
    ctu_dlq_free(dl, n);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* consumer.dlq.enable=false: poison stops the consumer with the error. */
START_TEST(test_dlq_disabled_stops) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    char e[512];
    vtev_err_t err = VTEV_ERR_OK;
    int64_t end;

    env_init(&env, "nodlq");
    pub = env_pub(&env);
    ctu_publish_raw(pub, "vessel-position-updates", "v0", "garbage!", 8);
    conf = env_conf(&env);
    ctu_set(conf, "consumer.dlq.enable", "false");
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    end = ctu_now_ms() + 30000;
    while (err == VTEV_ERR_OK && ctu_now_ms() < end)
        err = vtev_consumer_poll(c, 100, e, sizeof(e));
    ck_assert_int_eq(err, VTEV_ERR_BAD_MAGIC);
    ck_assert_str_contains(e, "consumer.dlq.enable");
    ck_assert_int_eq(vtev_consumer_poll(c, 0, e, sizeof(e)), VTEV_ERR_STATE);
    ck_assert_int_eq(vtev_consumer_run(c, e, sizeof(e)), VTEV_ERR_STATE);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* ---------------------------------------------------------------- stop */

typedef struct runner_s {
    vtev_consumer_t *c;
    vtev_err_t err;
    char errstr[512];
    atomic_int done;
} runner_t;

static void *run_thread(void *arg) {
    runner_t *r = arg;
    r->err = vtev_consumer_run(r->c, r->errstr, sizeof(r->errstr));
    atomic_store(&r->done, 1);
    return NULL;
}

static vtev_consumer_t *sig_consumer;
static void on_sigusr1(int sig) {
    (void)sig;
    vtev_consumer_stop(sig_consumer);
}

/* stop() from another thread (and from a signal handler) ends run(), which
 * commits: a new member of the group does not see the handled events again. */
static void stop_case(const char *name, int use_signal) {
    env_t env;
    ctu_pub_t *pub;
    runner_t r;
    pthread_t th;
    hctx_t *h = hctx_new();
    char ids[20][VTEV_UUID_LEN + 1];
    char e[512];
    int64_t end;
    size_t i;
    vtev_consumer_t *c2;

    env_init(&env, name);
    pub = env_pub(&env);
    publish_positions(pub, 20, 5, ids);
    memset(&r, 0, sizeof(r));
    r.c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(r.c, VTEV_EVENT_POSITION, NULL, record_handler, h,
                                             e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(pthread_create(&th, NULL, run_thread, &r), 0);
    end = ctu_now_ms() + 30000;
    while (ctu_rec_distinct(&h->rec) < 20 && ctu_now_ms() < end)
        usleep(20000);
    ck_assert_uint_eq(ctu_rec_distinct(&h->rec), 20);
    usleep(300000);
    if (use_signal) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigusr1;
        sigemptyset(&sa.sa_mask);
        sig_consumer = r.c;
        ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
        /* raise(): the handler runs on this thread while another thread is
         * inside vtev_consumer_run. (A process-directed kill() may land on
         * librdkafka's mock-cluster thread, whose poll() does not survive EINTR.) */
        ck_assert_int_eq(raise(SIGUSR1), 0);
    } else {
        vtev_consumer_stop(r.c);
    }
    end = ctu_now_ms() + 15000;
    while (!atomic_load(&r.done) && ctu_now_ms() < end)
        usleep(20000);
    ck_assert_msg(atomic_load(&r.done), "run() did not return after stop");
    pthread_join(th, NULL);
    ck_assert_msg(r.err == VTEV_ERR_OK, "run: %s", r.errstr);
    vtev_consumer_destroy(r.c);
    if (use_signal)
        signal(SIGUSR1, SIG_DFL);

    /* everything was committed at close: a new member handles nothing old */
    c2 = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c2, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    publish_positions(pub, 1, 1, ids);
    h->want = 21;
    ck_assert(ctu_poll_until(c2, have_want, h, 30000));
    ctu_poll_for(c2, 1000);
    for (i = 1; i < 20; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_uint_eq(h->rec.total, 21);
    vtev_consumer_destroy(c2);
    ctu_pub_destroy(pub);
    free(h);
}

START_TEST(test_stop_from_thread) {
    stop_case("stopthread", 0);
}
END_TEST

START_TEST(test_stop_from_signal) {
    stop_case("stopsignal", 1);
}
END_TEST

/* A handler can stop the consumer; the current handler's offset is kept. */
START_TEST(test_stop_from_handler) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    char e[512];
    env_init(&env, "stophandler");
    pub = env_pub(&env);
    publish_positions(pub, 10, 1, NULL);
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->stop_after_c = c;
    h->stop_after = 4;
    ck_assert_int_eq(vtev_consumer_run(c, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_uint_eq(h->rec.total, 4);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* ---------------------------------------------------------------- lag */

START_TEST(test_lag) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    vtev_partition_lag_t *lags = NULL;
    size_t n = 0, i;
    int64_t sum = 0;
    char e[512];

    env_init(&env, "lag");
    pub = env_pub(&env);
    publish_positions(pub, 9, 9, NULL);
    c = env_consumer(&env, NULL);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 9;
    ck_assert(ctu_poll_until(c, have_want, h, 30000));
    ck_assert_int_eq(vtev_consumer_lag(c, &lags, &n, 5000, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_uint_eq(n, 3); /* vessel-position-updates has 3 partitions */
    for (i = 0; i < n; i++) {
        ck_assert_str_eq(lags[i].topic, "vessel-position-updates");
        sum += lags[i].lag;
    }
    ck_assert_int_eq(sum, 0);
    vtev_free(lags);
    /* 4 more, not yet polled */
    publish_positions(pub, 4, 4, NULL);
    ck_assert_int_eq(vtev_consumer_lag(c, &lags, &n, 5000, e, sizeof(e)), VTEV_ERR_OK);
    for (sum = 0, i = 0; i < n; i++)
        sum += lags[i].lag;
    ck_assert_int_eq(sum, 4);
    vtev_free(lags);
    vtev_consumer_destroy(c);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* ---------------------------------------------------------------- transactions */

typedef struct txctx_s {
    vtev_producer_t *p;
    int handled;
    vtev_err_t send_err;
    char errstr[512];
} txctx_t;

static vtev_verdict_t txn_handler(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    txctx_t *t = opaque;
    vtev_event_t res;
    char e[512];
    (void)info;
    ck_assert_int_eq(vtev_producer_begin_transaction(t->p, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_event_init(&res, VTEV_EVENT_POSITION), VTEV_ERR_OK);
    res.u.position = ev->u.position;
    res.u.position.env.metadata = NULL;
    ck_assert_int_eq(vtev_producer_publish_to(t->p, "prediction-results-copy", &res, NULL, e,
                                              sizeof(e)),
                     VTEV_ERR_OK);
    t->send_err = vtev_consumer_txn_send_offsets(c, t->p, 10000, t->errstr, sizeof(t->errstr));
    ck_assert_msg(t->send_err == VTEV_ERR_OK, "send_offsets: %s", t->errstr);
    ck_assert_int_eq(vtev_producer_commit_transaction(t->p, 10000, e, sizeof(e)), VTEV_ERR_OK);
    t->handled++;
    return VTEV_VERDICT_OK;
}

static int txn_done(void *arg) {
    return ((txctx_t *)arg)->handled >= 3;
}

/* send_offsets inside a handler, in a transaction of a transactional
 * producer, on the mock cluster. */
START_TEST(test_txn_send_offsets) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf, *pconf;
    txctx_t t;
    char e[512];

    memset(&t, 0, sizeof(t));
    env_init(&env, "txn");
    rd_kafka_mock_topic_create(vtev__mock_cluster_get(env.mock + 7), "prediction-results-copy", 1,
                               1);
    pub = env_pub(&env);
    publish_positions(pub, 3, 1, NULL);
    pconf = vtev_conf_new();
    ctu_set(pconf, "bootstrap.servers", env.mock);
    ctu_set(pconf, "schema.registry.url", env.mock);
    ctu_set(pconf, "kafka.transactional.id", "txn-test");
    t.p = vtev_producer_new(pconf, e, sizeof(e));
    ck_assert_msg(t.p != NULL, "%s", e);
    ck_assert_int_eq(vtev_producer_init_transactions(t.p, 10000, e, sizeof(e)), VTEV_ERR_OK);
    conf = env_conf(&env);
    ctu_set(conf, "kafka.enable.auto.commit", "false");
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, txn_handler, &t, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, txn_done, &t, 30000));

    /* The mock cluster accepts TxnOffsetCommit but does not store the
     * offsets (librdkafka 2.0.2); the integration test checks that the group
     * has them on the real broker. Here: the calls succeed and commit. */
    ck_assert_int_eq(t.send_err, VTEV_ERR_OK);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(t.p);
    /* 3 messages (+ transaction markers) */
    ck_assert_int_ge(ctu_topic_count(env.bootstraps, "prediction-results-copy", 1), 3);
    ctu_pub_destroy(pub);
}
END_TEST

/* ---------------------------------------------------------------- transient registry */

/* The registry answers status n times: the messages wait (the attempts do
 * not count against consumer.retry.max.attempts) and are all handled once,
 * none dead-lettered. */
static void registry_outage(const char *name, int status, int n) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    char ids[3][VTEV_UUID_LEN + 1];
    vtev_consumer_stats_t st;
    char e[512];
    int i;

    env_init(&env, name);
    pub = env_pub(&env);
    publish_positions(pub, 3, 1, ids);
    vtev__mock_registry_inject(env.mock + 7, n, status);
    conf = env_conf(&env);
    ctu_set(conf, "consumer.retry.max.attempts", "2");
    ctu_set(conf, "schema.registry.max.retries", "0");
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 3;
    ck_assert(ctu_poll_until(c, have_want, h, 60000));
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_ge(st.retried, (unsigned)n);
    ck_assert_uint_eq(st.dead_lettered, 0);
    ck_assert_uint_eq(st.ok, 3);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    ctu_pub_destroy(pub);
    free(h);
}

START_TEST(test_registry_unavailable_is_transient) {
    registry_outage("regdown", 503, 5);
}
END_TEST

/* A credential being rotated (401) is the environment's trouble, not the
 * message's: never a dead letter. Uses only 0.1 API. */
START_TEST(test_registry_auth_not_dead_lettered) {
    registry_outage("regauth", 401, 6);
}
END_TEST

typedef struct ecb_s {
    const char *mock_name; /* registry to inject into */
    int calls;
    int seen[VTEV_ERR__END + 8];
    char last_reason[1024];
    int64_t last_offset;
    vtev_registry_t *register_on_first; /* registers the position schema on the first call */
} ecb_t;

static void error_cb(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                     const vtev_msg_info_t *info, void *opaque) {
    ecb_t *x = opaque;
    (void)c;
    ck_assert_ptr_nonnull(info);
    ck_assert_str_eq(info->topic, "vessel-position-updates");
    ck_assert_int_ge(info->attempt, 1);
    x->calls++;
    if ((int)err >= 0 && (int)err < (int)VTEV_ARRAY_SIZE(x->seen))
        x->seen[err]++;
    snprintf(x->last_reason, sizeof(x->last_reason), "%s", reason);
    x->last_offset = info->offset;
    if (x->mock_name && x->calls == 1) /* a front that answers its own 400 page */
        vtev__mock_registry_inject_raw(x->mock_name, 2, 400,
                                       "<html><head><title>400 Bad Request</title></head></html>");
    else if (x->mock_name && x->calls == 3) /* a redirect */
        vtev__mock_registry_inject_raw(x->mock_name, 1, 302, NULL);
    else if (x->mock_name && x->calls == 4) /* a proxy's 404 page: not the registry's 40403 */
        vtev__mock_registry_inject_raw(x->mock_name, 1, 404, "<h1>Not Found</h1>");
    if (x->register_on_first && x->calls == 1) {
        char e[512];
        int32_t id;
        ck_assert_int_eq(vtev_registry_register(x->register_on_first, "vessel-position-updates-value",
                                                vtev_schema_json(vtev_event_schema(VTEV_EVENT_POSITION)),
                                                &id, e, sizeof(e)),
                         VTEV_ERR_OK);
        ck_assert_int_eq(id, 1); /* the id the producer's registry gave */
    }
}

/* A consumer of the position topic that reports to error_cb(x). */
static vtev_consumer_t *ecb_consumer(env_t *env, vtev_conf_t *conf, ecb_t *x, hctx_t *h) {
    char e[512];
    vtev_consumer_t *c = env_consumer(env, conf);
    vtev_consumer_set_error_cb(c, error_cb, x);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

/* Every kind of environment error is reported through the error callback and
 * retried; none dead-letters. */
START_TEST(test_registry_env_errors_reported) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    ecb_t x;
    vtev_consumer_stats_t st;

    memset(&x, 0, sizeof(x));
    env_init(&env, "regenv");
    x.mock_name = env.mock + 7;
    pub = env_pub(&env);
    publish_positions(pub, 2, 1, NULL);
    vtev__mock_registry_inject(env.mock + 7, 1, 403);
    c = ecb_consumer(&env, NULL, &x, h);
    h->want = 2;
    ck_assert(ctu_poll_until(c, have_want, h, 60000));
    ck_assert_int_eq(x.calls, 5);
    ck_assert_int_eq(x.seen[VTEV_ERR_REGISTRY_AUTH], 1);
    ck_assert_int_eq(x.seen[VTEV_ERR_REGISTRY_PROTOCOL], 4); /* 400 x2, 302, 404 page */
    ck_assert_int_eq(x.last_offset, 0);
    ck_assert_str_contains(x.last_reason, "Not Found");
    ck_assert(vtev_err_is_retriable(VTEV_ERR_REGISTRY_AUTH));
    ck_assert(vtev_err_is_retriable(VTEV_ERR_REGISTRY_PROTOCOL));
    ck_assert(vtev_err_is_retriable(VTEV_ERR_REGISTRY_TLS));
    ck_assert(vtev_err_is_retriable(VTEV_ERR_REGISTRY_UNAVAILABLE));
    ck_assert(!vtev_err_is_retriable(VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND));
    ck_assert(!vtev_err_is_retriable(VTEV_ERR_DECODE));
    ck_assert(!vtev_err_is_retriable(VTEV_ERR_OK));
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 0);
    ck_assert_uint_eq(st.ok, 2);
    vtev_consumer_destroy(c);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* A publisher whose registry is pub_registry (the consumer's knows nothing). */
static ctu_pub_t *env_pub_on(env_t *env, const char *pub_registry) {
    vtev_conf_t *sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", pub_registry);
    return ctu_pub_new(env->bootstraps, sc);
}

/* An unknown schema id (a lagging replica) is re-checked, and the message is
 * handled once the id appears. */
START_TEST(test_schema_not_found_rechecked) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *rc = vtev_conf_new();
    hctx_t *h = hctx_new();
    ecb_t x;
    vtev_consumer_stats_t st;
    char e[512], pubreg[160];

    memset(&x, 0, sizeof(x));
    env_init(&env, "nfcheck");
    snprintf(pubreg, sizeof(pubreg), "%s-primary", env.mock);
    pub = env_pub_on(&env, pubreg);
    publish_positions(pub, 2, 1, NULL);
    ctu_set(rc, "schema.registry.url", env.mock); /* the consumer's, still empty */
    x.register_on_first = vtev_registry_new(rc, e, sizeof(e));
    ck_assert_msg(x.register_on_first != NULL, "%s", e);
    c = ecb_consumer(&env, NULL, &x, h);
    h->want = 2;
    ck_assert(ctu_poll_until(c, have_want, h, 60000));
    ck_assert_int_eq(x.calls, 1);
    ck_assert_int_eq(x.seen[VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND], 1);
    ck_assert_str_contains(x.last_reason, "consumer.schema.not.found.retry.ms");
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 0);
    ck_assert_uint_eq(st.ok, 2);
    vtev_consumer_destroy(c);
    vtev_registry_destroy(x.register_on_first);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* ... and dead-lettered once the window has passed. */
START_TEST(test_schema_not_found_window_ends) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    ecb_t x;
    vtev_consumer_stats_t st;
    ctu_dlq_msg_t dl[4];
    char b[600], pubreg[160];
    size_t n;

    memset(&x, 0, sizeof(x));
    env_init(&env, "nfwindow");
    snprintf(pubreg, sizeof(pubreg), "%s-primary", env.mock);
    pub = env_pub_on(&env, pubreg);
    publish_positions(pub, 1, 1, NULL);
    conf = env_conf(&env);
    ctu_set(conf, "consumer.schema.not.found.retry.ms", "600");
    c = ecb_consumer(&env, conf, &x, h);
    {
        int64_t end = ctu_now_ms() + 60000;
        do {
            ctu_poll_for(c, 100);
            ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
        } while (st.dead_lettered == 0 && ctu_now_ms() < end);
    }
    ck_assert_uint_eq(st.dead_lettered, 1);
    ck_assert_int_ge(x.calls, 1);
    ck_assert_int_eq(x.seen[VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND], x.calls);
    vtev_consumer_destroy(c);
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", dl, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&dl[0], "vtev.error.code", b, sizeof(b)),
                     "REGISTRY_SCHEMA_NOT_FOUND");
    ck_assert_str_contains(ctu_hdr(&dl[0], "vtev.error.message", b, sizeof(b)),
                           "still unknown after consumer.schema.not.found.retry.ms=600");
    ctu_dlq_free(dl, n);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* Registry calls on the poll thread are bounded below max.poll.interval.ms,
 * whatever the URLs and retries would add up to (8 URLs that never answer,
 * 1 + 3 attempts of 2 s on each: 64 s). */
static int error_seen(void *arg) {
    return ((ecb_t *)arg)->calls > 0;
}

START_TEST(test_registry_call_bounded_by_poll_interval) {
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    ecb_t x;
    char pubreg[160], urls[8 * 40] = "";
    int fds[8], i;
    vtev_consumer_stats_t st;

    memset(&x, 0, sizeof(x));
    env_init(&env, "regbound");
    snprintf(pubreg, sizeof(pubreg), "%s-primary", env.mock);
    pub = env_pub_on(&env, pubreg);
    publish_positions(pub, 1, 1, NULL);
    for (i = 0; i < 8; i++) {
        size_t off = strlen(urls);
        int port;
        fds[i] = vtev_test_blackhole(&port);
        snprintf(urls + off, sizeof(urls) - off, "%shttp://127.0.0.1:%d", i ? "," : "", port);
    }
    conf = ctu_conf(env.mock, urls, env.group);
    ctu_set(conf, "schema.registry.request.timeout.ms", "2000");
    ctu_set(conf, "schema.registry.max.retries", "3");
    ctu_set(conf, "kafka.max.poll.interval.ms", "7000");
    c = ecb_consumer(&env, conf, &x, h);
    ck_assert(ctu_poll_until(c, error_seen, &x, 60000));
    ck_assert_int_eq(x.seen[VTEV_ERR_REGISTRY_UNAVAILABLE], 1);
    ck_assert_str_contains(x.last_reason, "schema.registry.call.timeout.ms=3500");
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    ck_assert_uint_eq(st.dead_lettered, 0);
    vtev_consumer_destroy(c);
    for (i = 0; i < 8; i++)
        close(fds[i]);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

/* bootstrap.servers=mock://NAME becomes an address in one place, with the
 * same precedence for every handle: an explicit kafka.bootstrap.servers wins,
 * for the consumer as for the producer. */
START_TEST(test_kafka_bootstrap_wins_over_mock) {
    env_t env, other;
    vtev_conf_t *conf, *pconf;
    vtev_producer_t *prod;
    vtev_consumer_t *c;
    hctx_t *h = hctx_new();
    vtev_event_t ev;
    char e[512];

    env_init(&env, "bsreal");
    env_init(&other, "bsmock"); /* the cluster bootstrap.servers names */
    pconf = ctu_conf(other.mock, env.mock, NULL);
    ctu_set(pconf, "kafka.bootstrap.servers", env.bootstraps);
    prod = vtev_producer_new(pconf, e, sizeof(e));
    ck_assert_msg(prod != NULL, "%s", e);
    ctu_position(&ev, "v0");
    ck_assert_int_eq(vtev_producer_publish(prod, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    vtev_event_clear(&ev);
    ck_assert_int_eq(vtev_producer_flush(prod, 20000), VTEV_ERR_OK);
    vtev_producer_destroy(prod);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates", 3), 1);

    conf = ctu_conf(other.mock, env.mock, env.group);
    ctu_set(conf, "kafka.bootstrap.servers", env.bootstraps);
    c = env_consumer(&env, conf);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 1;
    ck_assert_msg(ctu_poll_until(c, have_want, h, 30000),
                  "the consumer did not read from kafka.bootstrap.servers");
    vtev_consumer_destroy(c);
    free(h);
}
END_TEST

/* The cooperative-sticky assignor: the rebalance callback must take the
 * incremental path (rd_kafka_assign() is refused under COOPERATIVE, and then
 * nothing would be consumed).  One member only: with several, librdkafka
 * before 2.2.0 can abort in rd_kafka_sticky_assignor_state_destroy() when a
 * member is destroyed (librdkafka issue #4312; the consumer warns about it,
 * doc/consumer.md). */
static void coop_log(int level, const char *fac, const char *msg, void *opaque) {
    (void)fac;
    if (level <= 4 && strstr(msg, "librdkafka issue #4312"))
        atomic_store((atomic_int *)opaque, 1);
}

START_TEST(test_cooperative_rebalance) {
    static atomic_int warned;
    env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *a;
    vtev_conf_t *conf;
    hctx_t *h = hctx_new();
    char ids[30][VTEV_UUID_LEN + 1];
    char e[512];
    size_t i;

    env_init(&env, "coop");
    pub = env_pub(&env);
    publish_positions(pub, 30, 9, ids);
    conf = env_conf(&env);
    ctu_set(conf, "kafka.partition.assignment.strategy", "cooperative-sticky");
    vtev_conf_set_log_cb(conf, coop_log, &warned);
    a = env_consumer(&env, conf);
    /* the warning names the librdkafka that runs */
    ck_assert_int_eq(atomic_load(&warned), rd_kafka_version() < 0x020200ff);
    ck_assert_int_eq(vtev_consumer_subscribe(a, VTEV_EVENT_POSITION, NULL, record_handler, h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    h->want = 30;
    ck_assert_msg(ctu_poll_until(a, have_want, h, 30000), "cooperative: handled %zu of 30",
                  ctu_rec_distinct(&h->rec));
    for (i = 0; i < 30; i++)
        ck_assert_int_eq(ctu_rec_count(&h->rec, ids[i]), 1);
    ctu_poll_for(a, 500);
    ck_assert_msg(vtev_consumer_close(a, e, sizeof(e)) == VTEV_ERR_OK, "close: %s", e);
    vtev_consumer_destroy(a);
    ck_assert_int_eq(ctu_topic_count(env.bootstraps, "vessel-position-updates.dlq", 1), 0);
    ctu_pub_destroy(pub);
    free(h);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 120)

static Suite *consumer_suite(void) {
    Suite *s = suite_create("consumer");
    ADD(group_id_required);
    ADD(subscribe_args);
    ADD(all_handled_once);
    ADD(retry_then_ok);
    ADD(retry_forever_dead_letters);
    ADD(garbage_dead_lettered);
    ADD(invalid_and_reject);
    ADD(raw_topic_dispatch);
    ADD(dlq_disabled_stops);
    ADD(stop_from_thread);
    ADD(stop_from_signal);
    ADD(stop_from_handler);
    ADD(lag);
    ADD(txn_send_offsets);
    ADD(registry_unavailable_is_transient);
    ADD(hostile_writer_limit);
    ADD(dlq_headers_safe);
    ADD(registry_auth_not_dead_lettered);
    ADD(registry_env_errors_reported);
    ADD(schema_not_found_rechecked);
    ADD(schema_not_found_window_ends);
    ADD(registry_call_bounded_by_poll_interval);
    ADD(kafka_bootstrap_wins_over_mock);
    ADD(cooperative_rebalance);
    return s;
}

int main(void) {
    return vtev_test_run(consumer_suite());
}
