/*
 * vt-stack-probe - ask a Kafka cluster for its metadata through librdkafka.
 *
 * scripts/stack.sh uses it to decide that a broker "really answers": the port
 * being open is not enough, a Metadata request must come back listing the
 * expected brokers. Deliberately depends on librdkafka only (not on
 * libvtevents), so the stack script can compile it on its own when no build
 * directory exists. Not installed.
 *
 *   vt-stack-probe -b 127.0.0.1:39092 [-w SECONDS] [-n BROKERS] [-i ID] [-x ID] [-q]
 *
 * Exit codes: 0 the cluster answered as expected, 1 it did not (within the
 * wait), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define PROBE_NAME "vt-stack-probe"

static void usage(FILE *out) {
    fprintf(out,
            "usage: " PROBE_NAME " -b BOOTSTRAP [options]\n"
            "Sends a Metadata request and prints the brokers and topics of the cluster.\n"
            "\n"
            "  -b, --brokers LIST     bootstrap servers (host:port[,host:port...])\n"
            "  -w, --wait SECONDS     retry until the expectations hold or SECONDS pass\n"
            "                         (default 0: one attempt of up to 5 seconds)\n"
            "  -n, --min-brokers N    expect at least N brokers in the metadata\n"
            "  -i, --has-broker ID    expect broker ID in the metadata\n"
            "  -x, --lacks-broker ID  expect broker ID NOT in the metadata\n"
            "  -q, --quiet            print nothing\n"
            "  -V, --version          print versions and exit\n"
            "  -h, --help             this text\n"
            "Exit codes: 0 as expected, 1 not as expected or no answer, 2 usage.\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* librdkafka's connection-refused chatter is expected while a broker starts. */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

static int parse_int(const char *s, const char *what, long min, long max, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        fprintf(stderr, PROBE_NAME ": %s: \"%s\" is not an integer in [%ld, %ld]\n", what, s, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

static int has_broker(const struct rd_kafka_metadata *md, long id) {
    int i;
    for (i = 0; i < md->broker_cnt; i++)
        if (md->brokers[i].id == id)
            return 1;
    return 0;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},  {"wait", required_argument, NULL, 'w'},
        {"min-brokers", required_argument, NULL, 'n'}, {"has-broker", required_argument, NULL, 'i'},
        {"lacks-broker", required_argument, NULL, 'x'}, {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *bootstrap = NULL;
    long wait_s = 0, min_brokers = 1, want_id = -1, lack_id = -1;
    int quiet = 0, c, ok = 0;
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    const struct rd_kafka_metadata *md = NULL;
    double deadline;
    char why[256] = "no answer";

    while ((c = getopt_long(argc, argv, "b:w:n:i:x:qVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            bootstrap = optarg;
            break;
        case 'w':
            if (parse_int(optarg, "--wait", 0, 3600, &wait_s))
                return 2;
            break;
        case 'n':
            if (parse_int(optarg, "--min-brokers", 0, 1000, &min_brokers))
                return 2;
            break;
        case 'i':
            if (parse_int(optarg, "--has-broker", 0, 1L << 30, &want_id))
                return 2;
            break;
        case 'x':
            if (parse_int(optarg, "--lacks-broker", 0, 1L << 30, &lack_id))
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'V':
            printf(PROBE_NAME " (libvtevents stack helper)\nlibrdkafka %s\n", rd_kafka_version_str());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!bootstrap || optind != argc) {
        usage(stderr);
        return 2;
    }

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "500", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "topic.metadata.refresh.interval.ms", "-1", errstr,
                          sizeof(errstr))) {
        fprintf(stderr, PROBE_NAME ": %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, PROBE_NAME ": %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }

    deadline = now_s() + (double)wait_s;
    for (;;) {
        double left = deadline - now_s();
        int tmo = left > 2.0 ? 2000 : (left > 0.2 ? (int)(left * 1000) : 200);
        rd_kafka_resp_err_t err;
        if (wait_s == 0)
            tmo = 5000;
        err = rd_kafka_metadata(rk, 1, NULL, &md, tmo);
        if (err) {
            snprintf(why, sizeof(why), "metadata request to %s: %s", bootstrap, rd_kafka_err2str(err));
            md = NULL;
        } else if (md->broker_cnt < min_brokers) {
            snprintf(why, sizeof(why), "%d broker(s) in the metadata, expected at least %ld",
                     md->broker_cnt, min_brokers);
        } else if (want_id >= 0 && !has_broker(md, want_id)) {
            snprintf(why, sizeof(why), "broker %ld is not in the metadata", want_id);
        } else if (lack_id >= 0 && has_broker(md, lack_id)) {
            snprintf(why, sizeof(why), "broker %ld is still in the metadata", lack_id);
        } else {
            ok = 1;
            break;
        }
        if (now_s() >= deadline)
            break;
        if (md) {
            rd_kafka_metadata_destroy(md);
            md = NULL;
        }
        rd_kafka_poll(rk, 250); /* back off before the next attempt */
    }

    if (md && !quiet) {
        int i;
        printf("metadata from broker %d (%s): %d broker(s), %d topic(s)\n", md->orig_broker_id,
               md->orig_broker_name, md->broker_cnt, md->topic_cnt);
        for (i = 0; i < md->broker_cnt; i++)
            printf("  broker %d at %s:%d\n", md->brokers[i].id, md->brokers[i].host,
                   md->brokers[i].port);
    }
    if (!ok && !quiet)
        fprintf(stderr, PROBE_NAME ": %s\n", why);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return ok ? 0 : 1;
}
