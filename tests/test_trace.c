/*
 * test_trace.c - W3C trace context: traceparent parsing and writing, new and
 * child contexts, the per-thread current context, and on the embedded mock
 * cluster: a traceparent on every publish, the handled message's trace
 * continued by what its handler publishes, the caller's own traceparent
 * kept (a bad one refused), trace.propagation=false, dead letters keeping
 * the trace, and the tracer hooks.
 */
#include <pthread.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"

#include <vtevents/trace.h>

typedef ctu_env_t env_t;

#define TP_A "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* ---------------------------------------------------------------- format */

START_TEST(test_parse_format) {
    vtev_trace_ctx_t c;
    char out[VTEV_TRACEPARENT_LEN + 1], id[33], e[256];
    static const struct {
        const char *tp;
        const char *why;
    } bad[] = {
        {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"},
        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", "characters"},
        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", "characters"},
        {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "trace id"},
        {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "all zeros"},
        {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "all zeros"},
        {"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "'-'"},
        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bx-01", "parent id"},
        {"0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version"},
        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz", "flags"},
        {"", "characters"},
    };
    size_t i;

    memset(&c, 0, sizeof(c)); /* every byte defined: the struct is compared whole below */
    ck_assert_int_eq(vtev_trace_parse(TP_A, strlen(TP_A), "k=v,x=y", 7, &c, e, sizeof(e)),
                     VTEV_ERR_OK);
    vtev_trace_format(&c, out);
    ck_assert_str_eq(out, TP_A);
    vtev_trace_id_hex(&c, id);
    ck_assert_str_eq(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    ck_assert_int_eq(c.flags, VTEV_TRACE_FLAG_SAMPLED);
    ck_assert_str_eq(c.tracestate, "k=v,x=y");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vtev_trace_ctx_t keep = c;
        ck_assert_msg(vtev_trace_parse(bad[i].tp, strlen(bad[i].tp), NULL, 0, &c, e,
                                       sizeof(e)) == VTEV_ERR_PARSE,
                      "accepted %s", bad[i].tp);
        ck_assert_str_contains(e, "traceparent");
        ck_assert_str_contains(e, bad[i].why);
        ck_assert(!memcmp(&keep, &c, sizeof(c))); /* unchanged on failure */
    }
    /* a later version with more fields: the first four are read */
    ck_assert_int_eq(vtev_trace_parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc",
                                      59, NULL, 0, &c, e, sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_trace_parse(NULL, 0, NULL, 0, &c, e, sizeof(e)), VTEV_ERR_INVALID_ARG);

    /* tracestate: dropped when too long or not printable, the trace goes on */
    {
        char big[VTEV_TRACESTATE_MAX + 2];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ck_assert_int_eq(vtev_trace_parse(TP_A, 55, big, strlen(big), &c, e, sizeof(e)),
                         VTEV_ERR_OK);
        ck_assert_str_eq(c.tracestate, "");
        ck_assert_int_eq(vtev_trace_parse(TP_A, 55, big, VTEV_TRACESTATE_MAX, &c, e, sizeof(e)),
                         VTEV_ERR_OK);
        ck_assert_uint_eq(strlen(c.tracestate), VTEV_TRACESTATE_MAX);
        ck_assert_int_eq(vtev_trace_parse(TP_A, 55, "a=\n", 3, &c, e, sizeof(e)), VTEV_ERR_OK);
        ck_assert_str_eq(c.tracestate, "");
    }
}
END_TEST

static void *other_thread(void *arg) {
    vtev_trace_ctx_t c;
    *(int *)arg = vtev_trace_get_current(&c) ? 1 : 0;
    return NULL;
}

START_TEST(test_new_child_current) {
    vtev_trace_ctx_t a, b, c;
    char ta[33], tb[33], out[VTEV_TRACEPARENT_LEN + 1];
    pthread_t th;
    int seen = -1, i, same = 0;

    vtev_trace_new(&a);
    vtev_trace_format(&a, out);
    ck_assert_int_eq(vtev_trace_parse(out, strlen(out), NULL, 0, &c, NULL, 0), VTEV_ERR_OK);
    ck_assert(!memcmp(c.trace_id, a.trace_id, 16) && !memcmp(c.span_id, a.span_id, 8));
    vtev_trace_child(&a, &b);
    vtev_trace_id_hex(&a, ta);
    vtev_trace_id_hex(&b, tb);
    ck_assert_str_eq(ta, tb);
    ck_assert(memcmp(a.span_id, b.span_id, 8) != 0);
    for (i = 0; i < 1000; i++) {
        vtev_trace_new(&b);
        if (!memcmp(a.trace_id, b.trace_id, 16))
            same++;
        a = b;
    }
    ck_assert_int_eq(same, 0);

    ck_assert(!vtev_trace_get_current(&c));
    vtev_trace_set_current(&a);
    ck_assert(vtev_trace_get_current(&c));
    ck_assert(!memcmp(c.trace_id, a.trace_id, 16));
    ck_assert_int_eq(pthread_create(&th, NULL, other_thread, &seen), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(seen, 0); /* per thread */
    vtev_trace_set_current(NULL);
    ck_assert(!vtev_trace_get_current(&c));
}
END_TEST

/* ---------------------------------------------------------------- on the mock cluster */

typedef struct tctx_s {
    vtev_producer_t *p; /* publishes a request for each position when set */
    char pos_tp[64], req_tp[64];
    char last_tp[64];
    int have_tp; /* the last message had a traceparent */
    int positions, requests;
    char tracestate[64];
} tctx_t;

static vtev_verdict_t on_position(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    tctx_t *x = opaque;
    char e[512];
    (void)c;
    x->positions++;
    x->have_tp = info->traceparent != NULL;
    snprintf(x->last_tp, sizeof(x->last_tp), "%s", info->traceparent ? info->traceparent : "");
    snprintf(x->pos_tp, sizeof(x->pos_tp), "%s", x->last_tp);
    snprintf(x->tracestate, sizeof(x->tracestate), "%s", info->tracestate ? info->tracestate : "");
    if (x->p) {
        vtev_event_t req;
        ctu_request(&req, ev->u.env.vessel_id);
        ck_assert_msg(vtev_producer_publish(x->p, &req, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s",
                      e);
        vtev_event_clear(&req);
    }
    return VTEV_VERDICT_OK;
}

static vtev_verdict_t on_request(vtev_consumer_t *c, const vtev_event_t *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    tctx_t *x = opaque;
    (void)c;
    (void)ev;
    x->requests++;
    snprintf(x->req_tp, sizeof(x->req_tp), "%s", info->traceparent ? info->traceparent : "");
    return VTEV_VERDICT_OK;
}

static int got(void *arg) {
    tctx_t *x = arg;
    return x->requests >= 1;
}

static int got_positions(void *arg) {
    return ((tctx_t *)arg)->positions >= 1;
}

static vtev_producer_t *producer_on(env_t *env, const char *trace) {
    vtev_conf_t *conf = vtev_conf_new();
    vtev_producer_t *p;
    char e[512];
    ctu_set(conf, "bootstrap.servers", env->mock);
    ctu_set(conf, "schema.registry.url", env->mock);
    if (trace)
        ctu_set(conf, "trace.propagation", trace);
    p = vtev_producer_new(conf, e, sizeof(e));
    ck_assert_msg(p != NULL, "producer: %s", e);
    return p;
}

static vtev_consumer_t *consumer_on(env_t *env, const char *group, tctx_t *x) {
    char e[512];
    vtev_consumer_t *c;
    c = vtev_consumer_new(ctu_conf(env->mock, env->mock, group), e, sizeof(e));
    ck_assert_msg(c != NULL, "consumer: %s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, on_position, x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_REQUEST, NULL, on_request, x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    return c;
}

static void trace_of(const char *tp, char id[33]) {
    vtev_trace_ctx_t c;
    ck_assert_msg(vtev_trace_parse(tp, strlen(tp), NULL, 0, &c, NULL, 0) == VTEV_ERR_OK,
                  "not a traceparent: \"%s\"", tp);
    vtev_trace_id_hex(&c, id);
}

static void publish_position(vtev_producer_t *p) {
    vtev_event_t ev;
    char e[512];
    ctu_position(&ev, "v1");
    ck_assert_msg(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK, "%s", e);
    vtev_event_clear(&ev);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
}

/* A position's trace continues into the request its handler publishes. */
START_TEST(test_handler_continues_trace) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    tctx_t x;
    char t1[33], t2[33];

    memset(&x, 0, sizeof(x));
    CTU_ENV_INIT(&env, "trace", "cont");
    p = producer_on(&env, NULL);
    x.p = p;
    publish_position(p);
    c = consumer_on(&env, env.group, &x);
    ck_assert(ctu_poll_until(c, got, &x, 30000));
    ck_assert(x.have_tp);
    trace_of(x.pos_tp, t1);
    trace_of(x.req_tp, t2);
    ck_assert_str_eq(t1, t2);                /* one trace */
    ck_assert_str_ne(x.pos_tp, x.req_tp);    /* a new span */
    /* outside the handler the thread has no current context again */
    ck_assert(!vtev_trace_get_current(NULL));
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

/* The caller's context: a current one set on the thread, a traceparent
 * header of its own (kept to the letter), a bad one refused. */
START_TEST(test_caller_context) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    tctx_t x;
    vtev_trace_ctx_t mine;
    char t[33], want[33], e[512];
    vtev_header_t h[2] = {{"traceparent", TP_A, 55}, {"tracestate", "v=1", 3}};
    ctu_dlq_msg_t m[4];
    size_t n;
    char b[128];

    memset(&x, 0, sizeof(x));
    CTU_ENV_INIT(&env, "trace", "caller");
    p = producer_on(&env, NULL);
    vtev_trace_new(&mine);
    vtev_trace_set_current(&mine);
    publish_position(p);
    vtev_trace_set_current(NULL);
    c = consumer_on(&env, env.group, &x);
    ck_assert(ctu_poll_until(c, got_positions, &x, 30000));
    trace_of(x.pos_tp, t);
    vtev_trace_id_hex(&mine, want);
    ck_assert_str_eq(t, want);

    ck_assert_int_eq(vtev_producer_publish_raw(p, "trace-raw", "x", 1, "k", 1, h, 2, NULL, e,
                                               sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    n = ctu_read_topic(env.bootstraps, "trace-raw", m, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&m[0], "traceparent", b, sizeof(b)), TP_A);
    ck_assert_str_eq(ctu_hdr(&m[0], "tracestate", b, sizeof(b)), "v=1");
    ctu_dlq_free(m, n);

    h[0].value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
    h[0].value_len = strlen(h[0].value);
    ck_assert_int_eq(vtev_producer_publish_raw(p, "trace-raw", "x", 1, "k", 1, h, 1, NULL, e,
                                               sizeof(e)),
                     VTEV_ERR_INVALID_ARG);
    ck_assert_str_contains(e, "headers: traceparent");
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

/* trace.propagation=false: no header, and the handler sees none. */
START_TEST(test_propagation_off) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    tctx_t x;
    ctu_dlq_msg_t m[4];
    size_t n;
    char b[128];

    memset(&x, 0, sizeof(x));
    CTU_ENV_INIT(&env, "trace", "off");
    p = producer_on(&env, "false");
    publish_position(p);
    c = consumer_on(&env, env.group, &x);
    ck_assert(ctu_poll_until(c, got_positions, &x, 30000));
    ck_assert(!x.have_tp);
    n = ctu_read_topic(env.bootstraps, "vessel-position-updates", m, 4, 5000);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ctu_hdr(&m[0], "traceparent", b, sizeof(b)), "");
    ck_assert_str_eq(ctu_hdr(&m[0], "event_type", b, sizeof(b)), "vessel.position.updated");
    ctu_dlq_free(m, n);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

static vtev_verdict_t reject_all(vtev_consumer_t *c, const vtev_event_t *ev,
                                 const vtev_msg_info_t *info, void *opaque) {
    (void)c;
    (void)ev;
    (void)info;
    ++*(int *)opaque;
    return VTEV_VERDICT_REJECT;
}

static int one(void *arg) {
    return *(int *)arg >= 1;
}

/* A dead letter keeps the trace of the message it was made from. */
START_TEST(test_dead_letter_keeps_trace) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    vtev_trace_ctx_t mine;
    char want[VTEV_TRACEPARENT_LEN + 1], b[128], e[512];
    ctu_dlq_msg_t m[4];
    size_t n = 0;
    int calls = 0;
    int64_t end;

    CTU_ENV_INIT(&env, "trace", "dlq");
    p = producer_on(&env, NULL);
    vtev_trace_new(&mine);
    vtev_trace_set_current(&mine);
    publish_position(p);
    vtev_trace_set_current(NULL);
    c = vtev_consumer_new(ctu_conf(env.mock, env.mock, env.group), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, reject_all, &calls, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert(ctu_poll_until(c, one, &calls, 30000));
    for (end = ctu_now_ms() + 10000; n == 0 && ctu_now_ms() < end;)
        n = ctu_read_topic(env.bootstraps, "vessel-position-updates.dlq", m, 4, 2000);
    ck_assert_uint_eq(n, 1);
    ctu_hdr(&m[0], "traceparent", b, sizeof(b));
    ck_assert_uint_eq(strlen(b), VTEV_TRACEPARENT_LEN);
    {
        char t[33], w[33];
        trace_of(b, t);
        vtev_trace_id_hex(&mine, w);
        ck_assert_str_eq(t, w);
    }
    (void)want;
    ctu_dlq_free(m, n);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

/* ---------------------------------------------------------------- hooks */

typedef struct hook_s {
    int publishes, with_parent, begins, ends, last_verdict;
    char consumed_tp[64];
} hook_t;

static void pub_hook(const char *topic, const vtev_trace_ctx_t *parent, vtev_trace_ctx_t *ctx,
                     void *opaque) {
    hook_t *h = opaque;
    ck_assert_ptr_nonnull(topic);
    h->publishes++;
    if (parent)
        h->with_parent++;
    memset(ctx->span_id, 0xab, sizeof(ctx->span_id)); /* the tracer's own span */
}

static void cons_hook(const char *topic, const vtev_trace_ctx_t *ctx, bool begin, int verdict,
                      void *opaque) {
    hook_t *h = opaque;
    ck_assert_ptr_nonnull(topic);
    if (begin) {
        h->begins++;
        if (ctx)
            vtev_trace_format(ctx, h->consumed_tp);
    } else {
        h->ends++;
        h->last_verdict = verdict;
    }
}

START_TEST(test_hooks) {
    env_t env;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    tctx_t x;
    hook_t h;

    memset(&x, 0, sizeof(x));
    memset(&h, 0, sizeof(h));
    vtev_trace_set_hooks(pub_hook, cons_hook, &h);
    CTU_ENV_INIT(&env, "trace", "hooks");
    p = producer_on(&env, NULL);
    publish_position(p);
    ck_assert_int_eq(h.publishes, 1);
    ck_assert_int_eq(h.with_parent, 0);
    c = consumer_on(&env, env.group, &x);
    ck_assert(ctu_poll_until(c, got_positions, &x, 30000));
    ck_assert_int_eq(h.begins, 1);
    ck_assert_int_eq(h.ends, 1);
    ck_assert_int_eq(h.last_verdict, VTEV_VERDICT_OK);
    ck_assert_str_eq(h.consumed_tp, x.pos_tp);
    ck_assert_str_contains(x.pos_tp, "-abababababababab-"); /* the hook's span id travelled */
    vtev_trace_set_hooks(NULL, NULL, NULL);
    publish_position(p);
    ck_assert_int_eq(h.publishes, 1);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 120)

static Suite *trace_suite(void) {
    Suite *s = suite_create("trace");
    ADD(parse_format);
    ADD(new_child_current);
    ADD(handler_continues_trace);
    ADD(caller_context);
    ADD(propagation_off);
    ADD(dead_letter_keeps_trace);
    ADD(hooks);
    return s;
}

int main(void) {
    return vtev_test_run(trace_suite());
}
