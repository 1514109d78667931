/*
 * test_registry_front.c - a library consumer on the real stack reads through a
 * registry front (tests/registry/auth_front.py, $VTEV_PYTHON) that answers 401
 * for 15 s in front of the real registry, as during a credential rotation.
 * The 20 valid events must all be handled once the front lets requests
 * through, and none may be dead-lettered.
 */
#include <signal.h>
#include <sys/wait.h>

#include "consumer_testutil.h"
#include "testutil.h"

#define N_EVENTS 20

static const char *front_script; /* argv[1]: tests/registry/auth_front.py */

typedef struct {
    ctu_rec_t rec;
    int auth_errors, other_errors;
} ctx_t;

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    ctx_t *x = opaque;
    (void)c;
    ctu_rec_add(&x->rec, ev->u.env.event_id, info->attempt);
    return VTEV_VERDICT_OK;
}

static void on_error(vtev_consumer_t *c, vtev_err_t err, const char *reason,
                     const vtev_msg_info_t *info, void *opaque) {
    ctx_t *x = opaque;
    (void)c;
    (void)info;
    if (err == VTEV_ERR_REGISTRY_AUTH)
        x->auth_errors++;
    else
        x->other_errors++;
    if (x->auth_errors + x->other_errors == 1)
        fprintf(stderr, "first error: %s: %s\n", vtev_err2name(err), reason);
}

static int all_handled(void *arg) {
    return ctu_rec_distinct(&((ctx_t *)arg)->rec) >= N_EVENTS;
}

/* Starts the front before upstream; returns its pid and port. */
static pid_t start_front(const char *python, const char *script, const char *upstream,
                         int *portp, FILE **outp) {
    int fds[2];
    pid_t pid;
    char line[128];
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(python, python, script, upstream, "--deny-seconds", "15", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *outp = fdopen(fds[0], "r");
    ck_assert_ptr_nonnull(*outp);
    ck_assert_msg(fgets(line, sizeof(line), *outp) && sscanf(line, "PORT %d", portp) == 1,
                  "%s did not start", script);
    return pid;
}

START_TEST(test_401_front_no_dead_letters) {
    const char *bootstraps = getenv("KAFKA_BOOTSTRAP_SERVERS");
    const char *registry = getenv("SCHEMA_REGISTRY_URL");
    const char *python = getenv("VTEV_PYTHON");
    char topic[128], dlq[160], group[160], url[64], e[512], line[128];
    vtev_conf_t *sconf, *conf;
    ctu_pub_t *pub;
    vtev_consumer_t *c;
    ctx_t *x = calloc(1, sizeof(*x));
    vtev_consumer_stats_t st;
    FILE *out;
    int port, i, status;
    pid_t pid;

    ck_assert_ptr_nonnull(x);
    ctu_rec_init(&x->rec);
    snprintf(topic, sizeof(topic), "vtev-front-%d-%ld", (int)getpid(), (long)time(NULL));
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(group, sizeof(group), "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 1);

    /* 20 valid events, their schema registered on the real registry */
    sconf = vtev_conf_new();
    ctu_set(sconf, "schema.registry.url", registry);
    pub = ctu_pub_new(bootstraps, sconf);
    for (i = 0; i < N_EVENTS; i++) {
        vtev_event_t ev;
        ctu_position(&ev, "v-front");
        ctu_publish(pub, topic, &ev);
        vtev_event_clear(&ev);
    }
    ctu_pub_destroy(pub);

    pid = start_front(python, front_script, registry, &port, &out);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    conf = ctu_conf(bootstraps, url, group);
    ctu_set(conf, "consumer.retry.backoff.max.ms", "2000");
    ctu_set(conf, "consumer.retry.max.attempts", "2");
    c = vtev_consumer_new(conf, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    vtev_consumer_set_error_cb(c, on_error, x);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, topic, handler, x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    ck_assert_msg(ctu_poll_until(c, all_handled, x, 120000), "%zu of %d handled",
                  ctu_rec_distinct(&x->rec), N_EVENTS);
    ck_assert_int_eq(vtev_consumer_stats(c, VTEV_EVENT_POSITION, &st), VTEV_ERR_OK);
    fprintf(stderr, "handled %zu, ok %llu, retried %llu, dead-lettered %llu, 401 reports %d\n",
            ctu_rec_distinct(&x->rec), (unsigned long long)st.ok,
            (unsigned long long)st.retried, (unsigned long long)st.dead_lettered,
            x->auth_errors);
    ck_assert_uint_eq(st.dead_lettered, 0);
    ck_assert_uint_eq(st.ok, N_EVENTS);
    ck_assert_int_ge(x->auth_errors, 1); /* the front did refuse */
    ck_assert_int_eq(x->other_errors, 0);
    vtev_consumer_destroy(c);

    ck_assert_msg(fgets(line, sizeof(line), out) && !strncmp(line, "DENIED ", 7),
                  "the front never ended its 401 window");
    fprintf(stderr, "front: %s", line);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    fclose(out);
    ck_assert_int_eq(ctu_topic_count(bootstraps, dlq, 1), 0);
    free(x);
}
END_TEST

int main(int argc, char **argv) {
    Suite *s = suite_create("registry_front");
    TCase *tc = tcase_create("front");
    if (argc < 2) {
        fprintf(stderr, "usage: %s tests/registry/auth_front.py\n", argv[0]);
        return 2;
    }
    front_script = argv[1];
    vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    vtev_test_require_env("SCHEMA_REGISTRY_URL");
    vtev_test_require_env("VTEV_PYTHON");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_401_front_no_dead_letters);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
