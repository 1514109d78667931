/*
 * test_log_format.c - the default log output (log.h): text lines, JSON lines
 * (log.format=json) with time, level, component and message, and, inside a
 * consumer's handler, the handled message's topic, event_id, correlation_id
 * and trace id; the thread's context set and read by the application.
 */
#include <fcntl.h>
#include <jansson.h>

#include "consumer_testutil.h"
#include "mock_cluster.h"
#include "testutil.h"

#include <vtevents/log.h>

/* Standard error into a file while a test writes log lines. */
typedef struct capture_s {
    int saved;
    char path[64];
} capture_t;

static void capture_start(capture_t *c) {
    int fd;
    snprintf(c->path, sizeof(c->path), "/tmp/vtev-logfmt-%d-XXXXXX", (int)getpid());
    fd = mkstemp(c->path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    c->saved = dup(2);
    ck_assert_int_ge(c->saved, 0);
    ck_assert_int_ge(dup2(fd, 2), 0);
    close(fd);
}

/* The captured text (caller frees); stderr is back. */
static char *capture_end(capture_t *c) {
    FILE *f;
    char *buf;
    long n;
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    f = fopen(c->path, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(c->path);
    return buf;
}

/* The first line of text that contains needle, parsed as JSON. */
static json_t *json_line(const char *text, const char *needle) {
    const char *p = strstr(text, needle), *b, *e;
    char *line;
    json_t *o;
    json_error_t je;
    ck_assert_msg(p != NULL, "no line with \"%s\" in:\n%s", needle, text);
    for (b = p; b > text && b[-1] != '\n'; b--)
        ;
    e = strchr(p, '\n');
    ck_assert_ptr_nonnull(e);
    line = strndup(b, (size_t)(e - b));
    o = json_loads(line, 0, &je);
    ck_assert_msg(o != NULL, "not JSON: %s (%s)", line, je.text);
    free(line);
    return o;
}

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

START_TEST(test_text_and_json) {
    vtev_conf_t *conf = vtev_conf_new();
    capture_t cap;
    char *out;
    json_t *o;
    vtev_log_ctx_t ctx = {"my-topic", "ev-1", NULL, NULL}, got;

    capture_start(&cap);
    vtev_log(conf, 4, "WORKER", "plain %d", 1);
    vtev_log(conf, 7, "WORKER", "debug is below log.level 6");
    ctu_set(conf, "log.format", "json");
    vtev_log(conf, 3, "WORKER", "quote \" and newline \n inside");
    vtev_log_context_set(&ctx);
    vtev_log(conf, 6, "WORKER", "with context");
    vtev_log_context_get(&got);
    vtev_log_context_set(NULL);
    vtev_log(conf, 6, "WORKER", "context cleared");
    out = capture_end(&cap);

    ck_assert_str_contains(out, "%vtevents|4|WORKER| plain 1\n");
    ck_assert_ptr_null(strstr(out, "debug is below"));
    o = json_line(out, "quote");
    ck_assert_str_eq(str(o, "level"), "error");
    ck_assert_str_eq(str(o, "component"), "WORKER");
    ck_assert_str_contains(str(o, "message"), "quote \" and newline \\x0a inside");
    ck_assert_uint_eq(strlen(str(o, "time")), 27); /* 2026-12-03T14:05:00.000123Z */
    ck_assert_ptr_null(json_object_get(o, "topic"));
    json_decref(o);
    o = json_line(out, "with context");
    ck_assert_str_eq(str(o, "topic"), "my-topic");
    ck_assert_str_eq(str(o, "event_id"), "ev-1");
    ck_assert_ptr_null(json_object_get(o, "correlation_id"));
    json_decref(o);
    o = json_line(out, "context cleared");
    ck_assert_ptr_null(json_object_get(o, "topic"));
    json_decref(o);
    ck_assert_str_eq(got.topic, "my-topic");
    ck_assert_ptr_null(got.trace_id);
    free(out);
    vtev_conf_destroy(conf);

    /* not a format */
    conf = vtev_conf_new();
    {
        char e[256];
        ck_assert_int_ne(vtev_conf_set(conf, "log.format", "xml", e, sizeof(e)), VTEV_CONF_OK);
        ck_assert_str_contains(e, "log.format");
    }
    vtev_conf_destroy(conf);
}
END_TEST

typedef struct hctx_s {
    vtev_conf_t *conf;
    int calls;
    char event_id[VTEV_UUID_LEN + 1];
    char traceparent[64];
} hctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    hctx_t *h = opaque;
    (void)c;
    h->calls++;
    snprintf(h->event_id, sizeof(h->event_id), "%s", ev->u.env.event_id);
    snprintf(h->traceparent, sizeof(h->traceparent), "%s",
             info->traceparent ? info->traceparent : "");
    vtev_log(h->conf, 5, "HANDLER", "handling the position");
    return VTEV_VERDICT_OK;
}

static int called(void *arg) {
    return ((hctx_t *)arg)->calls >= 1;
}

/* A handler's lines carry the message's topic, event id, correlation id and
 * trace id; after the handler the thread's context is back. */
START_TEST(test_handler_context) {
    ctu_env_t env;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    vtev_conf_t *conf;
    hctx_t h;
    vtev_event_t ev;
    capture_t cap;
    char *out, e[512];
    json_t *o;
    vtev_log_ctx_t outside = {"outside-topic", NULL, NULL, NULL}, got;
    vtev_producer_t *p;

    memset(&h, 0, sizeof(h));
    CTU_ENV_INIT(&env, "logfmt", "handler");
    conf = ctu_conf(env.mock, env.mock, env.group);
    ctu_set(conf, "log.format", "json");
    ctu_set(conf, "log.level", "5");
    h.conf = conf;
    {
        vtev_conf_t *pc = vtev_conf_new();
        ctu_set(pc, "bootstrap.servers", env.mock);
        ctu_set(pc, "schema.registry.url", env.mock);
        p = vtev_producer_new(pc, e, sizeof(e));
        ck_assert_msg(p != NULL, "%s", e);
    }
    ctu_position(&ev, "v9");
    ck_assert_int_eq(vtev_metadata_set_string(vtev_envelope_metadata(&ev.u.env), "correlation_id",
                                              "corr-77"),
                     VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_publish(p, &ev, NULL, e, sizeof(e)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_producer_flush(p, 10000), VTEV_ERR_OK);
    vtev_event_clear(&ev);
    (void)pub;

    c = vtev_consumer_new(vtev_conf_dup(conf), e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, handler, &h, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    vtev_log_context_set(&outside);
    capture_start(&cap);
    ck_assert(ctu_poll_until(c, called, &h, 30000));
    out = capture_end(&cap);
    vtev_log_context_get(&got);
    ck_assert_str_eq(got.topic, "outside-topic"); /* restored */
    vtev_log_context_set(NULL);

    o = json_line(out, "handling the position");
    ck_assert_str_eq(str(o, "component"), "HANDLER");
    ck_assert_str_eq(str(o, "level"), "notice");
    ck_assert_str_eq(str(o, "topic"), "vessel-position-updates");
    ck_assert_str_eq(str(o, "event_id"), h.event_id);
    ck_assert_str_eq(str(o, "correlation_id"), "corr-77");
    ck_assert_uint_eq(strlen(str(o, "trace_id")), 32);
    ck_assert(!strncmp(h.traceparent + 3, str(o, "trace_id"), 32));
    json_decref(o);
    free(out);
    vtev_consumer_destroy(c);
    vtev_producer_destroy(p);
    vtev_conf_destroy(conf);
}
END_TEST

#define ADD(name) VTEV_TEST_CASE(s, name, 120)

static Suite *log_format_suite(void) {
    Suite *s = suite_create("log_format");
    ADD(text_and_json);
    ADD(handler_context);
    return s;
}

int main(void) {
    return vtev_test_run(log_format_suite());
}
