/*
 * test_dlq_integration.c - dead letters on the real Kafka and Schema
 * Registry of scripts/stack.sh, through vt-dlq (argv[1]) and the consumer:
 *
 * - redrive: prediction results, a service that fails some of them for a
 *   while and a poison message; the failing results go through two retry
 *   tiers (consumer.retry.tiers) to the dead-letter topic; after the fix (the
 *   real prediction-persister, argv[3], takes the service's place in its
 *   group), `vt-dlq replay` gets each failed result stored exactly once: one
 *   row per prediction in the persister's SQLite database, never updated;
 *   the poison, dead-lettered again with its replay count, is refused by the
 *   loop guard on the next replay;
 * - interrupted: a replay stopped by SIGINT and by SIGTERM, run again, sends
 *   every dead letter exactly once;
 * - killed: a replay SIGKILLed three times mid-way (inside its transaction),
 *   run again to the end: a read_committed reader of the target sees every
 *   event_id exactly once (the killed runs' open transactions are aborted);
 * - topics_tiers: `vt-topics create` with consumer.retry.tiers creates the
 *   retry topics of the topics that opt in;
 * - filters: every filter of list and replay, --dry-run publishes nothing,
 *   show decodes what decodes and gives base64 for the rest, stats --json,
 *   bad input.
 *
 * Every test uses fresh topics (name + pid + time) so runs do not interfere.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include <jansson.h>
#ifdef VTEV_TEST_PERSISTER
#include <sqlite3.h>
#endif

#include "consumer_testutil.h"
#include "testutil.h"

static const char *bootstraps;
static const char *registry;
static const char *vt_dlq;
static const char *vt_topics;
static const char *persister; /* examples/prediction-persister (argv[3]) */

/* Runs vt-dlq with args (a shell command tail); stdout into out (NUL-
 * terminated, truncated to size), stderr into err.  Returns the exit status. */
static int tool(char *out, size_t size, char *err, size_t esize, const char *fmt, ...) {
    char args[4096], cmd[8192], efile[] = "/tmp/vt-dlq-err-XXXXXX";
    va_list ap;
    FILE *p, *ef;
    size_t n = 0;
    int fd = mkstemp(efile), status;
    ck_assert_int_ge(fd, 0);
    close(fd);
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "'%s' -b '%s' -r '%s' %s 2>'%s'", vt_dlq, bootstraps, registry,
             args, efile);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    while (n + 1 < size) {
        size_t r = fread(out + n, 1, size - 1 - n, p);
        if (r == 0)
            break;
        n += r;
    }
    out[n] = '\0';
    {
        char sink[4096];
        while (fread(sink, 1, sizeof(sink), p) > 0) {
        }
    }
    status = pclose(p);
    err[0] = '\0';
    if ((ef = fopen(efile, "r"))) {
        size_t m = fread(err, 1, esize - 1, ef);
        err[m] = '\0';
        fclose(ef);
    }
    unlink(efile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int count_lines(const char *s, const char *needle) {
    int n = 0;
    const char *line = s;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[8192];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
        if (len && (!needle || strstr(buf, needle)))
            n++;
        line += len + (nl ? 1 : 0);
    }
    return n;
}

static rd_kafka_t *raw_producer(void) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    char e[512];
    rd_kafka_t *rk;
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "enable.idempotence", "true", e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, e, sizeof(e));
    ck_assert_msg(rk != NULL, "%s", e);
    return rk;
}

/* A synthetic dead letter, as the consumer writes them. */
static void put_letter(rd_kafka_t *rk, const char *dlq, const char *key, const void *val,
                       size_t len, const char *otopic, int opart, long long ooff,
                       const char *code, const char *time, const char *event_id,
                       const char *seq) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    char num[32];
    rd_kafka_resp_err_t err;
    rd_kafka_header_add(h, "event_type", -1, "vessel.position.updated", -1);
    if (event_id)
        rd_kafka_header_add(h, "event_id", -1, event_id, -1);
    if (seq)
        rd_kafka_header_add(h, "seq", -1, seq, -1);
    rd_kafka_header_add(h, "vtev.error.code", -1, code, -1);
    rd_kafka_header_add(h, "vtev.error.message", -1, "synthetic", -1);
    rd_kafka_header_add(h, "vtev.original.topic", -1, otopic, -1);
    snprintf(num, sizeof(num), "%d", opart);
    rd_kafka_header_add(h, "vtev.original.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", ooff);
    rd_kafka_header_add(h, "vtev.original.offset", -1, num, -1);
    rd_kafka_header_add(h, "vtev.attempts", -1, "1", -1);
    rd_kafka_header_add(h, "vtev.dlq.time", -1, time, -1);
    err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(dlq), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)val, len),
                            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    ck_assert_msg(!err, "produce: %s", rd_kafka_err2str(err));
}

static void topic_names(char *topic, size_t size, const char *name) {
    snprintf(topic, size, "itdlq-%s-%d-%lld", name, (int)getpid(), (long long)time(NULL));
}

/* ---- redrive ------------------------------------------------------------ */

#ifdef VTEV_TEST_PERSISTER
typedef struct rctx_s {
    ctu_rec_t rec; /* what the broken service handled, by event_id */
} rctx_t;

/* The broken service: results of two vessels fail (the cause is fixed
 * later, by putting the real persister in its place). */
static vtev_verdict_t rhandler(vtev_consumer_t *c, const vtev_event_t *ev,
                               const vtev_msg_info_t *info, void *opaque) {
    rctx_t *x = opaque;
    const char *v = ev->u.env.vessel_id;
    (void)c;
    if (!strcmp(v, "v3") || !strcmp(v, "v7"))
        return VTEV_VERDICT_RETRY;
    ctu_rec_add(&x->rec, ev->u.env.event_id, info->attempt);
    return VTEV_VERDICT_OK;
}

#define NEV 30

/* The persister's rows: prediction_id -> updates (-1: no row). */
static int db_updates(sqlite3 *db, const char *prediction_id) {
    sqlite3_stmt *st;
    int u = -1;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT updates FROM predictions WHERE prediction_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, prediction_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        u = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return u;
}

static int db_rows(sqlite3 *db) {
    sqlite3_stmt *st;
    int n = -1;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM predictions", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Starts prediction-persister on topic (results) in group, into the SQLite
 * file db; returns once it has its partitions (--ready-file). */
static pid_t spawn_persister(const char *topic, const char *group, const char *db,
                             const char *ready) {
    char xt[300], xg[300];
    pid_t pid;
    int64_t deadline = ctu_now_ms() + 60000;
    unlink(ready);
    snprintf(xt, sizeof(xt), "topic.result=%s", topic);
    snprintf(xg, sizeof(xg), "group.id=%s", group);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(persister, persister, "-q", "-b", bootstraps, "-r", registry, "-X", xt, "-X", xg,
              "--db", db, "--ready-file", ready, (char *)NULL);
        _exit(127);
    }
    while (access(ready, F_OK) != 0) {
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "prediction-persister exited: %d",
                      status);
        ck_assert_msg(ctu_now_ms() < deadline, "prediction-persister not ready in 60 s");
        usleep(50 * 1000);
    }
    return pid;
}

START_TEST(test_redrive) {
    char topic[200], dlq[220], group[240], e[1024], db_path[300], ready[320];
    static char out[1 << 16], err[1 << 14];
    static rctx_t x;
    static char ids[NEV][VTEV_UUID_LEN + 1], preds[NEV][64];
    char poison_id[64];
    vtev_conf_t *pc, *cc;
    vtev_producer_t *p;
    vtev_consumer_t *c;
    rd_kafka_t *rk;
    sqlite3 *db;
    pid_t ps;
    int i, nbroken = 0, rc, status;
    int64_t deadline;

    topic_names(topic, sizeof(topic), "redrive");
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(group, sizeof(group), "g-%s", topic);
    snprintf(db_path, sizeof(db_path), "/tmp/%s.db", topic);
    snprintf(ready, sizeof(ready), "/tmp/%s.ready", topic);
    unlink(db_path);
    ctu_create_topic(bootstraps, topic, 3);
    {
        char rt[260];
        for (i = 1; i <= 2; i++) {
            snprintf(rt, sizeof(rt), "%s.retry.%d", topic, i);
            ctu_create_topic(bootstraps, rt, 3);
        }
    }

    /* NEV prediction results, and a poison message that never decodes */
    pc = vtev_conf_new();
    ctu_set(pc, "bootstrap.servers", bootstraps);
    ctu_set(pc, "schema.registry.url", registry);
    ctu_set(pc, "topic.result", topic);
    ctu_set(pc, "log.level", "4");
    p = vtev_producer_new(pc, e, sizeof(e));
    ck_assert_msg(p != NULL, "%s", e);
    for (i = 0; i < NEV; i++) {
        vtev_result_event_t ev;
        ck_assert_int_eq(vtev_result_init(&ev), VTEV_ERR_OK);
        snprintf(ev.env.vessel_id, sizeof(ev.env.vessel_id), "v%d", i % 10);
        snprintf(ev.request_id, sizeof(ev.request_id), "req-%d", i);
        snprintf(preds[i], sizeof(preds[i]), "pred-%d-%lld-%d", (int)getpid(),
                 (long long)time(NULL), i);
        snprintf(ev.data.prediction_id, sizeof(ev.data.prediction_id), "%.60s", preds[i]);
        ev.data.terminal_id = 1 + i % 3;
        snprintf(ev.data.terminal_name, sizeof(ev.data.terminal_name), "terminal %d", i % 3);
        ev.data.confidence_score = 0.5;
        ev.data.distance_km = 10.0;
        ev.data.vessel_snapshot.lat = 29.7;
        ev.data.vessel_snapshot.lon = -95.0;
        ev.data.vessel_snapshot.speed = 12.0;
        ev.data.vessel_snapshot.heading = 90.0;
        snprintf(ev.data.vessel_snapshot.status, sizeof(ev.data.vessel_snapshot.status),
                 "underway");
        snprintf(ids[i], sizeof(ids[i]), "%s", ev.env.event_id);
        if (i % 10 == 3 || i % 10 == 7)
            nbroken++;
        ck_assert_msg(vtev_producer_publish_result(p, &ev, NULL, e, sizeof(e)) == VTEV_ERR_OK,
                      "%s", e);
        vtev_result_clear(&ev);
    }
    ck_assert_int_eq(vtev_producer_flush(p, 20000), VTEV_ERR_OK);
    vtev_producer_destroy(p);
    snprintf(poison_id, sizeof(poison_id), "poison-%d-%lld", (int)getpid(),
             (long long)time(NULL));
    rk = raw_producer();
    {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "event_id", -1, poison_id, -1);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY("poison", 6),
                                           RD_KAFKA_V_VALUE("not avro", 8), RD_KAFKA_V_HEADERS(h),
                                           RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 20000), 0);
    }
    rd_kafka_destroy(rk);

    /* the broken service: the failing ones go through both tiers to the DLQ,
     * the poison straight there */
    ctu_rec_init(&x.rec);
    cc = ctu_conf(bootstraps, registry, group);
    ctu_set(cc, "topic.result", topic);
    ctu_set(cc, "consumer.retry.tiers", "2");
    ctu_set(cc, "consumer.retry.tier.backoff", "linear");
    ctu_set(cc, "consumer.retry.tier.delay.ms", "200");
    c = vtev_consumer_new(cc, e, sizeof(e));
    ck_assert_msg(c != NULL, "%s", e);
    ck_assert_int_eq(vtev_consumer_subscribe(c, VTEV_EVENT_RESULT, NULL, rhandler, &x, e,
                                             sizeof(e)),
                     VTEV_ERR_OK);
    deadline = ctu_now_ms() + 120000;
    while (ctu_now_ms() < deadline &&
           (ctu_topic_count(bootstraps, dlq, 1) < nbroken + 1 ||
            ctu_rec_distinct(&x.rec) < (size_t)(NEV - nbroken)))
        ctu_poll_for(c, 200);
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, dlq, 1), nbroken + 1);
    ck_assert_uint_eq(ctu_rec_distinct(&x.rec), NEV - nbroken);
    {
        /* through both tiers */
        char rt[260];
        for (i = 1; i <= 2; i++) {
            snprintf(rt, sizeof(rt), "%s.retry.%d", topic, i);
            ck_assert_int_eq((int)ctu_topic_count(bootstraps, rt, 3), nbroken);
        }
    }
    ck_assert_int_eq(vtev_consumer_close(c, e, sizeof(e)), VTEV_ERR_OK);
    vtev_consumer_destroy(c);

    rc = tool(out, sizeof(out), err, sizeof(err), "stats --json '%s'", dlq);
    ck_assert_msg(rc == 0, "stats: %d %s", rc, err);
    {
        json_t *j = json_loads(out, 0, NULL), *codes;
        ck_assert_msg(j != NULL, "stats --json: %s", out);
        codes = json_object_get(j, "by_error_code");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), nbroken + 1);
        ck_assert_int_eq(json_integer_value(json_object_get(codes, "RETRIES_EXHAUSTED")), nbroken);
        ck_assert_int_eq((int)json_object_size(codes), 2); /* and the poison's */
        ck_assert_int_eq(
            json_integer_value(json_object_get(json_object_get(j, "by_original_topic"), topic)),
            nbroken + 1);
        json_decref(j);
    }

    /* the cause is fixed: the real persister takes the broken service's
     * place in its group, and everything is replayed once */
    ps = spawn_persister(topic, group, db_path, ready);
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --max-replays 1 '%s'", dlq);
    ck_assert_msg(rc == 0, "replay: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, "\"action\": \"replayed\""), nbroken + 1);
    ck_assert_str_contains(err, "replayed 7"); /* the summary: 6 broken + the poison */
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    deadline = ctu_now_ms() + 60000;
    while (ctu_now_ms() < deadline &&
           (db_rows(db) < nbroken || ctu_topic_count(bootstraps, dlq, 1) < nbroken + 2))
        usleep(100 * 1000);
    usleep(1500 * 1000); /* nothing more comes */
    /* each replayed prediction stored exactly once: one row, never updated;
     * the others were handled once by the broken service, and not again */
    ck_assert_int_eq(db_rows(db), nbroken);
    for (i = 0; i < NEV; i++) {
        if (i % 10 == 3 || i % 10 == 7) {
            ck_assert_msg(db_updates(db, preds[i]) == 0, "%s: updates %d", preds[i],
                          db_updates(db, preds[i]));
            ck_assert_int_eq(ctu_rec_count(&x.rec, ids[i]), 0);
        } else {
            ck_assert_int_eq(db_updates(db, preds[i]), -1);
            ck_assert_int_eq(ctu_rec_count(&x.rec, ids[i]), 1);
        }
    }
    /* the poison came back, dead-lettered by the persister with its replay count */
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, dlq, 1), nbroken + 2);
    rc = tool(out, sizeof(out), err, sizeof(err), "list --json --event-id '%s' '%s'", poison_id,
              dlq);
    ck_assert_msg(rc == 0, "list: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, NULL), 2);
    ck_assert_int_eq(count_lines(out, "\"replay_count\": 1"), 1);

    /* the next replay resumes after the first one and refuses the poison */
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --max-replays 1 '%s'", dlq);
    ck_assert_msg(rc == 0, "replay 2: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, NULL), 1);
    ck_assert_int_eq(count_lines(out, "\"action\": \"refused_loop\""), 1);
    ck_assert_str_contains(out, poison_id);
    usleep(1500 * 1000);
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, dlq, 1), nbroken + 2);
    ck_assert_int_eq(db_rows(db), nbroken);
    for (i = 0; i < NEV; i++)
        if (i % 10 == 3 || i % 10 == 7)
            ck_assert_int_eq(db_updates(db, preds[i]), 0);
    sqlite3_close(db);

    ck_assert_int_eq(kill(ps, SIGTERM), 0);
    ck_assert_int_eq(waitpid(ps, &status, 0), ps);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "persister: status %d", status);
    unlink(db_path);
    unlink(ready);
}
END_TEST
#endif

/* ---- interrupted -------------------------------------------------------- */

#define NINT 300

static pid_t spawn_replay(const char *dlq, const char *group, const char *rate) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(vt_dlq, vt_dlq, "-q", "-b", bootstraps, "--group", group, "--rate", rate, "replay",
              dlq, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Fresh topics for a replay test: dlq (1 partition) with n dead letters
 * whose original topic is target (target_parts partitions), headers seq i
 * and event_id NAME-i; group, the replay's group.  The buffers hold 300. */
static void replay_setup(const char *name, int n, int target_parts, char *dlq, char *target,
                         char *group) {
    char topic[200], seq[16], evid[48];
    rd_kafka_t *rk;
    int i;
    topic_names(topic, sizeof(topic), name);
    snprintf(dlq, 300, "%s.dlq", topic);
    snprintf(target, 300, "%s.target", topic);
    snprintf(group, 300, "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 1);
    ctu_create_topic(bootstraps, target, target_parts);
    rk = raw_producer();
    for (i = 0; i < n; i++) {
        snprintf(seq, sizeof(seq), "%d", i);
        snprintf(evid, sizeof(evid), "%s-%d", name, i);
        put_letter(rk, dlq, i % 2 ? "v1" : "v2", "garbage", 7, target, 0, i, "DECODE",
                   "2026-01-10T10:00:00.000Z", evid, seq);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, 20000), 0);
    rd_kafka_destroy(rk);
}

/* The offsets written to topic (messages of open and aborted transactions
 * and the markers too), -1 while its partitions have no leader yet.  rk
 * reads read_uncommitted: a read_committed handle is answered with the last
 * stable offsets, which stay before an open transaction. */
static int64_t offsets_written(rd_kafka_t *rk, const char *topic, int partitions) {
    int64_t sum = 0;
    int i;
    for (i = 0; i < partitions; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 5000))
            return -1;
        sum += hi - lo;
    }
    return sum;
}

/* Waits until the offsets of target (partitions) grew by more than n: a
 * replay is sending. */
static void wait_sending(const char *target, int partitions, int64_t n) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char e[512];
    int64_t from, now, deadline = ctu_now_ms() + 30000;
    rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, e, sizeof(e));
    rd_kafka_conf_set(rkc, "isolation.level", "read_uncommitted", e, sizeof(e));
    rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e));
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, e, sizeof(e));
    ck_assert_msg(rk != NULL, "%s", e);
    while ((from = offsets_written(rk, target, partitions)) < 0 && ctu_now_ms() < deadline)
        usleep(100 * 1000);
    while ((now = offsets_written(rk, target, partitions)) <= from + n) {
        ck_assert_msg(ctu_now_ms() < deadline, "%s: the replay sent nothing in 30 s", target);
        usleep(20 * 1000);
    }
    rd_kafka_destroy(rk);
}

START_TEST(test_interrupted) {
    char dlq[300], target[300], group[300];
    static char out[1 << 20], err[1 << 14];
    static ctu_dlq_msg_t got[NINT + 50];
    static char seen[NINT];
    int i, rc, sig, status;
    int64_t before = 0, now;
    size_t n;
    const int sigs[2] = {SIGINT, SIGTERM};

    replay_setup("intr", NINT, 1, dlq, target, group);

    /* stopped twice, once by SIGINT and once by SIGTERM, in the middle */
    for (sig = 0; sig < 2; sig++) {
        pid_t pid = spawn_replay(dlq, group, "100/s");
        wait_sending(target, 1, 10);
        usleep(300 * 1000);
        kill(pid, sigs[sig]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "stopped replay: status %d",
                      status);
        now = (int64_t)ctu_count_topic(bootstraps, target, 30000);
        ck_assert_msg(now > before && now < NINT, "after stop %d: %lld sent", sig, (long long)now);
        before = now;
    }
    /* run again to the end */
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --group '%s' '%s'", group, dlq);
    ck_assert_msg(rc == 0, "replay: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, "\"replayed\""), NINT - (int)before);
    ck_assert_int_eq((int)ctu_count_topic(bootstraps, target, 30000), NINT);
    n = ctu_read_topic(bootstraps, target, got, NINT + 50, 30000);
    ck_assert_uint_eq(n, NINT);
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < (int)n; i++) {
        char buf[32];
        int s = atoi(ctu_hdr(&got[i], "seq", buf, sizeof(buf)));
        ck_assert_int_ge(s, 0);
        ck_assert_int_lt(s, NINT);
        ck_assert_msg(!seen[s], "seq %d sent twice", s);
        seen[s] = 1;
        ck_assert_str_eq(ctu_hdr(&got[i], "vtev.replay.count", buf, sizeof(buf)), "1");
    }
    ctu_dlq_free(got, n);
    /* and once more: nothing left */
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --group '%s' '%s'", group, dlq);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(count_lines(out, NULL), 0);
    ck_assert_int_eq((int)ctu_count_topic(bootstraps, target, 30000), NINT);
}
END_TEST

/* ---- killed -------------------------------------------------------------- */

#define NKILL 2000
#define KILLS 3

/* SIGKILL, several times, in the middle of a replay: the run after each one
 * aborts the transaction the killed one left open (same transactional.id)
 * and resumes from the offsets committed with the last committed
 * transaction, so a read_committed reader of the target sees every dead
 * letter exactly once. */
START_TEST(test_killed) {
    char dlq[300], target[300], group[300];
    static char out[1 << 20], err[1 << 14];
    static ctu_dlq_msg_t got[NKILL + 600];
    static int seen[NKILL];
    int i, k, rc, status, open_txn = 0, dups = 0;
    size_t n, committed, written;

    replay_setup("kill", NKILL, 3, dlq, target, group);

    srand((unsigned)getpid());
    for (k = 0; k < KILLS; k++) {
        pid_t pid = spawn_replay(dlq, group, "500/s");
        wait_sending(target, 3, 50);
        usleep((useconds_t)(50 + rand() % 200) * 1000);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
        committed = ctu_count_topic(bootstraps, target, 30000);
        written = ctu_read_topic_iso(bootstraps, target, NULL, (size_t)-1, 30000,
                                     "read_uncommitted");
        ck_assert_msg(committed < NKILL, "kill %d: the replay had finished", k);
        /* what the killed run sent in its open transaction */
        if (written > committed)
            open_txn++;
        fprintf(stderr, "kill %d: %zu committed, %zu written\n", k, committed, written);
    }
    /* run again to the end */
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --group '%s' '%s'", group, dlq);
    ck_assert_msg(rc == 0, "replay: %d %s", rc, err);
    n = ctu_read_topic(bootstraps, target, got, sizeof(got) / sizeof(got[0]), 30000);
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < (int)n; i++) {
        char buf[40];
        int s = -1;
        if (sscanf(ctu_hdr(&got[i], "event_id", buf, sizeof(buf)), "kill-%d", &s) != 1 || s < 0 ||
            s >= NKILL)
            ck_abort_msg("message %d: event_id %s", i, buf);
        if (seen[s]++)
            dups++;
    }
    ctu_dlq_free(got, n);
    for (i = 0; i < NKILL; i++)
        ck_assert_msg(seen[i] == 1, "event_id kill-%d seen %d times by a read_committed reader "
                      "(%d duplicates in %zu messages)", i, seen[i], dups, n);
    ck_assert_uint_eq(n, NKILL);
    /* the kills did land inside transactions: their messages are in the log,
     * aborted, and only a read_uncommitted reader sees them */
    ck_assert_msg(open_txn > 0, "no kill left a transaction open");
    written = ctu_read_topic_iso(bootstraps, target, NULL, (size_t)-1, 30000, "read_uncommitted");
    ck_assert_uint_gt(written, NKILL);
    fprintf(stderr, "killed %d times (%d inside a transaction): %d read_committed, %zu written\n",
            KILLS, open_txn, NKILL, written);
}
END_TEST

/* ---- filters ------------------------------------------------------------ */

/* The dlq offsets ("offset": N at the start of each line's dlq part) of
 * list --json output, as a string "0,2,". */
static void offsets(const char *out, char *buf, size_t size) {
    const char *line = out;
    size_t n = 0;
    buf[0] = '\0';
    while (*line) {
        const char *nl = strchr(line, '\n');
        json_t *j;
        char tmp[1 << 14];
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        snprintf(tmp, sizeof(tmp), "%.*s", (int)len, line);
        if ((j = json_loads(tmp, 0, NULL))) {
            n += (size_t)snprintf(buf + n, size - n, "%lld,",
                                  (long long)json_integer_value(json_object_get(j, "offset")));
            json_decref(j);
        }
        line += len + (nl ? 1 : 0);
    }
}

START_TEST(test_filters) {
    char topic[200], dlq[220], target[240], group[260], buf[256];
    static char out[1 << 16], err[1 << 14];
    rd_kafka_t *rk;
    vtev_conf_t *sc;
    vtev_serde_t *serde;
    vtev_event_t ev;
    void *framed = NULL;
    size_t flen = 0;
    char e[512];
    int rc;

    topic_names(topic, sizeof(topic), "filt");
    snprintf(dlq, sizeof(dlq), "%s.dlq", topic);
    snprintf(target, sizeof(target), "%s.target", topic);
    snprintf(group, sizeof(group), "g-%s", topic);
    ctu_create_topic(bootstraps, topic, 3);
    ctu_create_topic(bootstraps, target, 1);
    /* a value that decodes (L3) */
    sc = vtev_conf_new();
    ctu_set(sc, "schema.registry.url", registry);
    serde = vtev_serde_new(sc, e, sizeof(e));
    ck_assert_msg(serde != NULL, "%s", e);
    ctu_position(&ev, "k3");
    ck_assert_msg(vtev_serde_serialize(serde, topic, &ev, &framed, &flen, NULL, e, sizeof(e)) ==
                      VTEV_ERR_OK,
                  "%s", e);
    rk = raw_producer();
    put_letter(rk, dlq, "k1", "\x01garbage", 8, topic, 0, 10, "DECODE",
               "2026-01-10T10:00:00.000Z", "e0", NULL);
    put_letter(rk, dlq, "k2", "\x01garbage", 8, topic, 1, 11, "REJECTED",
               "2026-01-10T11:00:00.000Z", "e1", NULL);
    put_letter(rk, dlq, "k1", "\x01garbage", 8, topic, 2, 12, "RETRIES_EXHAUSTED",
               "2026-01-10T12:00:00.000Z", "e2", NULL);
    put_letter(rk, dlq, "k3", framed, flen, topic, 0, 13, "INVALID",
               "2026-01-10T13:30:00.000Z", "e3", NULL);
    ck_assert_int_eq(rd_kafka_flush(rk, 20000), 0);
    rd_kafka_destroy(rk);
    vtev_free(framed);
    vtev_event_clear(&ev);
    vtev_serde_destroy(serde);

#define LIST(want, ...)                                                                        \
    do {                                                                                       \
        rc = tool(out, sizeof(out), err, sizeof(err), "list --json " __VA_ARGS__);             \
        ck_assert_msg(rc == 0, "list: %d %s", rc, err);                                        \
        offsets(out, buf, sizeof(buf));                                                        \
        ck_assert_msg(!strcmp(buf, want), "list %s: got %s, want %s", #__VA_ARGS__, buf, want); \
    } while (0)
    LIST("0,1,2,3,", "'%s'", dlq);
    LIST("1,2,3,", "--since 2026-01-10T11:00:00Z '%s'", dlq);
    LIST("0,", "--until 2026-01-10T11:00:00Z '%s'", dlq);
    LIST("1,2,", "--since 2026-01-10T11:00:00Z --until 2026-01-10T13:00:00Z '%s'", dlq);
    LIST("1,", "--error-code REJECTED '%s'", dlq);
    LIST("0,2,", "--key k1 '%s'", dlq);
    LIST("0,1,2,3,", "--original-topic '%s' '%s'", topic, dlq);
    LIST("", "--original-topic other '%s'", dlq);
    LIST("0,3,", "--partition 0 '%s'", dlq);
    LIST("2,", "--offset 12 '%s'", dlq);
    LIST("3,", "--event-id e3 '%s'", dlq);
    LIST("0,", "--key k1 --error-code DECODE '%s'", dlq);
#undef LIST
    /* the text form: one line each */
    rc = tool(out, sizeof(out), err, sizeof(err), "list '%s'", dlq);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(count_lines(out, NULL), 4);
    ck_assert_int_eq(count_lines(out, "RETRIES_EXHAUSTED"), 1);

    /* show: the decoded event where it decodes, base64 where it does not */
    rc = tool(out, sizeof(out), err, sizeof(err), "show --event-id e3 '%s'", dlq);
    ck_assert_msg(rc == 0, "show: %d %s", rc, err);
    ck_assert_str_contains(out, "\"event\": {");
    ck_assert_str_contains(out, "\"vessel_id\": \"k3\"");
    ck_assert_str_contains(out, "\"error_code\": \"INVALID\"");
    rc = tool(out, sizeof(out), err, sizeof(err), "show --event-id e0 '%s'", dlq);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_contains(out, "\"value_base64\": \"AWdhcmJhZ2U=\"");
    ck_assert_str_contains(out, "\"decode_error\": ");
    ck_assert_str_contains(out, "\"vtev.original.offset\": \"10\"");

    /* stats */
    rc = tool(out, sizeof(out), err, sizeof(err), "stats --json '%s'", dlq);
    ck_assert_int_eq(rc, 0);
    {
        json_t *j = json_loads(out, 0, NULL), *ph;
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 4);
        ck_assert_str_eq(json_string_value(json_object_get(j, "oldest")),
                         "2026-01-10T10:00:00.000Z");
        ck_assert_str_eq(json_string_value(json_object_get(j, "newest")),
                         "2026-01-10T13:30:00.000Z");
        ph = json_object_get(j, "per_hour");
        ck_assert_int_eq((int)json_object_size(ph), 4);
        ck_assert_int_eq(json_integer_value(json_object_get(ph, "2026-01-10T13:00:00Z")), 1);
        json_decref(j);
    }
    rc = tool(out, sizeof(out), err, sizeof(err), "stats --key k1 '%s'", dlq);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_contains(out, "dead letters: 2");

    /* replay takes the filters; --dry-run publishes nothing */
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --dry-run --key k1 --group '%s' '%s'",
              group, dlq);
    ck_assert_msg(rc == 0, "dry run: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, "\"would_replay\""), 2);
    ck_assert_int_eq(count_lines(out, NULL), 2);
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, topic, 3), 0);
    rc = tool(out, sizeof(out), err, sizeof(err),
              "replay --dry-run --to '%s' --group '%s' '%s'", target, group, dlq);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(count_lines(out, "\"would_replay\""), 4); /* nothing was committed */
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, target, 1), 0);
    rc = tool(out, sizeof(out), err, sizeof(err),
              "replay --to '%s' --error-code REJECTED --group '%s' '%s'", target, group, dlq);
    ck_assert_msg(rc == 0, "replay: %d %s", rc, err);
    ck_assert_int_eq(count_lines(out, "\"replayed\""), 1);
    ck_assert_int_eq((int)ctu_count_topic(bootstraps, target, 30000), 1);
    ck_assert_int_eq((int)ctu_topic_count(bootstraps, topic, 3), 0);
    {
        ctu_dlq_msg_t m[2];
        size_t n = ctu_read_topic(bootstraps, target, m, 2, 20000);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(m[0].key, "k2");
        ck_assert_str_eq(ctu_hdr(&m[0], "event_id", buf, sizeof(buf)), "e1");
        ck_assert_str_eq(ctu_hdr(&m[0], "vtev.replay.count", buf, sizeof(buf)), "1");
        ck_assert_str_eq(ctu_hdr(&m[0], "vtev.error.code", buf, sizeof(buf)), "");
        ck_assert_uint_eq(m[0].len, 8);
        ck_assert(!memcmp(m[0].value, "\x01garbage", 8));
        ctu_dlq_free(m, n);
    }

    /* bad input: exit 2 naming the option; a topic that does not exist: 1 */
    rc = tool(out, sizeof(out), err, sizeof(err), "list --since yesterday '%s'", dlq);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_contains(err, "--since");
    rc = tool(out, sizeof(out), err, sizeof(err), "list --partition -1 '%s'", dlq);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_contains(err, "--partition");
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --rate 0/s '%s'", dlq);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_contains(err, "--rate");
    rc = tool(out, sizeof(out), err, sizeof(err), "replay --max-replays -1 '%s'", dlq);
    ck_assert_int_eq(rc, 2);
    ck_assert_str_contains(err, "--max-replays");
    rc = tool(out, sizeof(out), err, sizeof(err), "list --dry-run '%s'", dlq);
    ck_assert_int_eq(rc, 2);
    rc = tool(out, sizeof(out), err, sizeof(err), "frobnicate");
    ck_assert_int_eq(rc, 2);
    rc = tool(out, sizeof(out), err, sizeof(err), "stats '%s.nope'", dlq);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_contains(err, ".nope");
    rc = tool(out, sizeof(out), err, sizeof(err), "replay '%s.nope'", dlq);
    ck_assert_int_eq(rc, 1);
}
END_TEST

START_TEST(test_topics_tiers) {
    char p[100], cmd[2048], line[512];
    FILE *f;
    int lines = 0, tiers = 0, status;
    snprintf(p, sizeof(p), "itdlq-tt-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(cmd, sizeof(cmd),
             "'%s' -b '%s' -X topic.position=%s.pos -X topic.request=%s.req -X "
             "topic.result=%s.res -X consumer.retry.tiers=2 -X consumer.retry.tier.topics=%s.req "
             "create -R 1",
             vt_topics, bootstraps, p, p, p, p);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        char want[200];
        lines++;
        snprintf(want, sizeof(want), "created %s.req.retry.", p);
        if (!strncmp(line, want, strlen(want)))
            tiers++;
    }
    status = pclose(f);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(lines, 8); /* 3 topics, 3 DLQs, 2 tiers of the requests */
    ck_assert_int_eq(tiers, 2);
}
END_TEST

int main(int argc, char **argv) {
    Suite *s = suite_create("dlq_integration");
    if (argc < 3) {
        fprintf(stderr, "usage: %s VT_DLQ VT_TOPICS [PREDICTION_PERSISTER]\n", argv[0]);
        return 2;
    }
    vt_dlq = argv[1];
    vt_topics = argv[2];
    persister = argc > 3 ? argv[3] : NULL;
    bootstraps = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    registry = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    VTEV_TEST_CASE(s, topics_tiers, 60);
    VTEV_TEST_CASE(s, filters, 240);
    VTEV_TEST_CASE(s, interrupted, 240);
    VTEV_TEST_CASE(s, killed, 240);
#ifdef VTEV_TEST_PERSISTER
    if (!persister) {
        fprintf(stderr, "usage: %s VT_DLQ VT_TOPICS PREDICTION_PERSISTER\n", argv[0]);
        return 2;
    }
    VTEV_TEST_CASE(s, redrive, 400);
#else
    fprintf(stderr, "redrive: left out (this build has no examples with SQLite)\n");
#endif
    return vtev_test_run(s);
}
