/*
 * bench_dlq - how long `vt-dlq stats` takes on a dead-letter topic of N dead
 * letters (the target: 10,000 in under 2 s), text and --json.
 *
 *   bench_dlq -x VT_DLQ [-n dead-letters] [-r runs] [-T topic]
 *
 * The topic (default bench-dlq-<pid>.dlq, 1 partition as the platform's
 * dead-letter topics) is filled once with N dead letters as a consumer
 * writes them: a framed 120-byte value, key "lng-NNN", the vtev.* headers,
 * five error codes, 50 reasons, dead-letter times spread over 24 hours.
 * Each run is the whole process `vt-dlq stats` (start, metadata, read to the
 * end, print), timed from fork to exit.  Needs a real broker
 * (KAFKA_BOOTSTRAP_SERVERS): vt-dlq cannot reach an in-process mock cluster.
 */
#include "bench_common.h"
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>

static long n_letters = 10000;
static int runs = 5;
static char topic[256];
static const char *vt_dlq;

static void fill(void) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char e[512], val[120];
    long i;
    static const char *const codes[] = {"DECODE", "INVALID", "REJECTED", "RETRIES_EXHAUSTED",
                                        "BAD_MAGIC"};
    if (rd_kafka_conf_set(rkc, "bootstrap.servers", bc_bootstrap(), e, sizeof(e)) ||
        rd_kafka_conf_set(rkc, "linger.ms", "20", e, sizeof(e)) ||
        rd_kafka_conf_set(rkc, "log_level", "3", e, sizeof(e)))
        bc_die("%s", e);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, e, sizeof(e))))
        bc_die("%s", e);
    memset(val, 'x', sizeof(val));
    val[0] = 0; /* magic byte, then a schema id */
    for (i = 0; i < n_letters; i++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(12);
        char key[32], num[32], reason[64], when[40], eid[48];
        time_t t = (time_t)(1768003200 + (i * 86400) / n_letters); /* 2026-01-10, 24 h */
        struct tm tm;
        rd_kafka_resp_err_t err;
        snprintf(key, sizeof(key), "lng-%03ld", i % 500);
        snprintf(reason, sizeof(reason), "data.lat: %ld is outside [-90, 90]", 91 + i % 50);
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        snprintf(eid, sizeof(eid), "00000000-0000-4000-8000-%012ld", i % 1000000000000L); /* 12 digits */
        rd_kafka_header_add(h, "event_type", -1, "vessel.position.updated", -1);
        rd_kafka_header_add(h, "event_id", -1, eid, -1);
        rd_kafka_header_add(h, "vtev.error.code", -1, codes[i % 5], -1);
        rd_kafka_header_add(h, "vtev.error.message", -1, reason, -1);
        rd_kafka_header_add(h, "vtev.original.topic", -1, "vessel-position-updates", -1);
        snprintf(num, sizeof(num), "%ld", i % 3);
        rd_kafka_header_add(h, "vtev.original.partition", -1, num, -1);
        snprintf(num, sizeof(num), "%ld", i);
        rd_kafka_header_add(h, "vtev.original.offset", -1, num, -1);
        rd_kafka_header_add(h, "vtev.consumer.group", -1, "bench", -1);
        rd_kafka_header_add(h, "vtev.attempts", -1, "1", -1);
        rd_kafka_header_add(h, "vtev.dlq.time", -1, when, -1);
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE(val, sizeof(val)), RD_KAFKA_V_HEADERS(h),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (err)
            bc_die("produce: %s", rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(rk, 120000))
        bc_die("fill: flush timed out");
    rd_kafka_destroy(rk);
}

/* One `vt-dlq stats` run; returns its wall time in seconds. */
static double run(bool json) {
    double t0 = bc_now();
    int status;
    pid_t pid = fork();
    if (pid < 0)
        bc_die("fork failed");
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        if (json)
            execl(vt_dlq, vt_dlq, "-q", "-b", bc_bootstrap(), "stats", "--json", topic,
                  (char *)NULL);
        else
            execl(vt_dlq, vt_dlq, "-q", "-b", bc_bootstrap(), "stats", topic, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bc_die("vt-dlq stats failed (status %d)", status);
    return bc_now() - t0;
}

int main(int argc, char **argv) {
    int opt, i;
    char kase[64];
    topic[0] = '\0';
    while ((opt = getopt(argc, argv, "x:n:r:T:")) != -1) {
        switch (opt) {
        case 'x': vt_dlq = optarg; break;
        case 'n': n_letters = atol(optarg); break;
        case 'r': runs = atoi(optarg); break;
        case 'T': snprintf(topic, sizeof(topic), "%s", optarg); break;
        default:
            fprintf(stderr, "usage: bench_dlq -x VT_DLQ [-n dead-letters] [-r runs] [-T topic]\n");
            return 2;
        }
    }
    if (!vt_dlq || n_letters < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_dlq -x VT_DLQ [-n dead-letters] [-r runs] [-T topic]\n");
        return 2;
    }
    if (!strncmp(bc_bootstrap(), "mock://", 7))
        bc_die("needs a real broker (KAFKA_BOOTSTRAP_SERVERS): vt-dlq cannot reach a mock cluster");
    if (!topic[0])
        snprintf(topic, sizeof(topic), "bench-dlq-%d.dlq", (int)getpid());
    fill();
    snprintf(kase, sizeof(kase), "%ld dead letters", n_letters);
    for (i = 0; i < runs; i++) {
        /* alternate the order of the two forms */
        bool first_json = i % 2;
        bc_result("dlq_stats", kase, first_json ? "json" : "text", "seconds", run(first_json));
        bc_result("dlq_stats", kase, first_json ? "text" : "json", "seconds", run(!first_json));
    }
    return 0;
}
