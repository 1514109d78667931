/*
 * vt-mock-cluster - librdkafka's mock cluster (its mock cluster API) as its own process.
 *
 * Starts N mock brokers on 127.0.0.1 (random ports), creates the platform
 * topics and their .dlq topics, prints the bootstrap address as the first
 * line on stdout and runs until SIGINT/SIGTERM (or `quit`). Faults are
 * injected from outside through commands on stdin (see --help and
 * doc/vt-mock-cluster.1), each answered with one line "ok" or "error: ...".
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <vtevents/admin.h>
#include <vtevents/version.h>

#define TOOL "vt-mock-cluster"
#define MAX_TOPICS 64

static int verbose = 1; /* 0 quiet, 1 normal, 2 verbose */

static void usage(FILE *out) {
    fprintf(out,
            "usage: " TOOL " [options]\n"
            "Runs librdkafka's mock Kafka cluster until SIGINT/SIGTERM; prints its bootstrap\n"
            "servers as the first line on stdout.\n"
            "\n"
            "  -n, --brokers N          number of mock brokers (1..16, default 3)\n"
            "  -r, --replication N      replication factor of the created topics\n"
            "                           (default min(3, brokers))\n"
            "  -t, --topic NAME:PARTS   also create topic NAME with PARTS partitions (repeatable)\n"
            "      --no-platform-topics do not create the platform topics and their .dlq topics\n"
            "  -q, --quiet              no messages on stderr\n"
            "  -v, --verbose            more messages on stderr (librdkafka logs)\n"
            "  -V, --version            print tool, library and librdkafka versions\n"
            "  -h, --help               this text\n"
            "\n"
            "Commands on stdin (one per line; answer \"ok\" or \"error: ...\" on stdout):\n"
            "  down ID                  broker ID goes down (closes connections, refuses new)\n"
            "  up ID                    broker ID comes back\n"
            "  rtt ID MS                broker ID answers with MS milliseconds of delay\n"
            "  leader TOPIC PART ID     move the leader of TOPIC/PART to broker ID\n"
            "  error APIKEY ERR [N]     the next N (default 1) requests of APIKEY (number,\n"
            "                           e.g. 0 Produce, 1 Fetch, 8 OffsetCommit) fail with ERR\n"
            "                           (number or name such as NOT_LEADER_FOR_PARTITION)\n"
            "  topic NAME PARTS         create a topic\n"
            "  bootstrap                print the bootstrap servers again\n"
            "  quit                     stop\n"
            "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage.\n");
}

static int parse_long(const char *s, long min, long max, long *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* An error code by number or by name (with or without the ERR_ prefix). */
static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
    const struct rd_kafka_err_desc *descs;
    size_t cnt, i;
    long v;
    if (!parse_long(s, -200, 1000, &v)) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    if (!strncmp(s, "ERR_", 4))
        s += 4;
    rd_kafka_get_err_descs(&descs, &cnt);
    for (i = 0; i < cnt; i++) {
        if (descs[i].name && !strcmp(descs[i].name, s)) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void reply_err(rd_kafka_resp_err_t err) {
    if (err)
        reply("error: %s", rd_kafka_err2str(err));
    else
        reply("ok");
}

/* Runs one command line; returns 1 on `quit`. */
static int run_command(rd_kafka_mock_cluster_t *mc, int brokers, char *line) {
    char *argv[6];
    int argc = 0;
    char *save = NULL, *tok;
    long id, v, n;
    for (tok = strtok_r(line, " \t\r\n", &save); tok && argc < 6;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0)
        return 0;
    if (!strcmp(argv[0], "quit"))
        return 1;
    if (!strcmp(argv[0], "bootstrap") && argc == 1) {
        reply("%s", rd_kafka_mock_cluster_bootstraps(mc));
    } else if ((!strcmp(argv[0], "down") || !strcmp(argv[0], "up")) && argc == 2) {
        if (parse_long(argv[1], 1, brokers, &id)) {
            reply("error: broker id: \"%s\" is not in [1, %d]", argv[1], brokers);
            return 0;
        }
        reply_err(argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                                    : rd_kafka_mock_broker_set_up(mc, (int32_t)id));
    } else if (!strcmp(argv[0], "rtt") && argc == 3) {
        if (parse_long(argv[1], 1, brokers, &id) || parse_long(argv[2], 0, 600000, &v)) {
            reply("error: usage: rtt ID MS (ID in [1, %d], MS in [0, 600000])", brokers);
            return 0;
        }
        reply_err(rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)v));
    } else if (!strcmp(argv[0], "leader") && argc == 4) {
        if (parse_long(argv[2], 0, 100000, &v) || parse_long(argv[3], -1, brokers, &id)) {
            reply("error: usage: leader TOPIC PARTITION ID (ID in [1, %d])", brokers);
            return 0;
        }
        reply_err(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)v, (int32_t)id));
    } else if (!strcmp(argv[0], "error") && (argc == 3 || argc == 4)) {
        rd_kafka_resp_err_t err;
        rd_kafka_resp_err_t errs[64];
        long i;
        n = 1;
        if (parse_long(argv[1], 0, 1000, &v) || parse_err(argv[2], &err) ||
            (argc == 4 && parse_long(argv[3], 1, 64, &n))) {
            reply("error: usage: error APIKEY ERR [N] (ERR a number or a name, N in [1, 64])");
            return 0;
        }
        for (i = 0; i < n; i++)
            errs[i] = err;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)v, (size_t)n, errs);
        reply("ok");
    } else if (!strcmp(argv[0], "topic") && argc == 3) {
        if (parse_long(argv[2], 1, 10000, &v)) {
            reply("error: partitions: \"%s\" is not in [1, 10000]", argv[2]);
            return 0;
        }
        reply_err(rd_kafka_mock_topic_create(mc, argv[1], (int)v, brokers < 3 ? brokers : 3));
    } else {
        reply("error: unknown command or wrong arguments: %s (see --help)", argv[0]);
    }
    return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    if (verbose >= 2 || (verbose == 1 && level <= 3))
        fprintf(stderr, TOOL ": %s: %s\n", fac, buf);
}

int main(int argc, char **argv) {
    enum { OPT_NO_PLATFORM = 256 };
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'n'},
        {"replication", required_argument, NULL, 'r'},
        {"topic", required_argument, NULL, 't'},
        {"no-platform-topics", no_argument, NULL, OPT_NO_PLATFORM},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    long brokers = 3, rf = -1;
    int platform = 1, c, ntopics = 0, rc = 0, stdin_open = 1;
    const char *extra[MAX_TOPICS];
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    sigset_t mask;
    int sfd;
    size_t i;
    char line[1024];

    while ((c = getopt_long(argc, argv, "n:r:t:qvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_long(optarg, 1, 16, &brokers)) {
                fprintf(stderr, TOOL ": --brokers: \"%s\" is not an integer in [1, 16]\n", optarg);
                return 2;
            }
            break;
        case 'r':
            if (parse_long(optarg, 1, 16, &rf)) {
                fprintf(stderr, TOOL ": --replication: \"%s\" is not an integer in [1, 16]\n",
                        optarg);
                return 2;
            }
            break;
        case 't':
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, TOOL ": --topic: at most %d topics\n", MAX_TOPICS);
                return 2;
            }
            extra[ntopics++] = optarg;
            break;
        case OPT_NO_PLATFORM:
            platform = 0;
            break;
        case 'q':
            verbose = 0;
            break;
        case 'v':
            verbose = 2;
            break;
        case 'V':
            printf(TOOL " %s\nlibvtevents %s\nlibrdkafka %s\n", VTEV_VERSION_STR, vtev_version_str(),
                   rd_kafka_version_str());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, TOOL ": unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (rf < 0)
        rf = brokers < 3 ? brokers : 3;
    if (rf > brokers) {
        fprintf(stderr, TOOL ": --replication: %ld is more than the %ld broker(s)\n", rf, brokers);
        return 2;
    }
    for (c = 0; c < ntopics; c++) { /* validate NAME:PARTS before starting anything */
        const char *colon = strrchr(extra[c], ':');
        long parts;
        if (!colon || colon == extra[c] || parse_long(colon + 1, 1, 10000, &parts)) {
            fprintf(stderr, TOOL ": --topic: \"%s\" is not NAME:PARTITIONS (1..10000)\n", extra[c]);
            return 2;
        }
    }

    /* Block the signals before librdkafka starts its threads, so they inherit
     * the mask and only the signalfd below sees SIGINT/SIGTERM. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
        fprintf(stderr, TOOL ": signalfd: %s\n", strerror(errno));
        return 1;
    }

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, TOOL ": %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        close(sfd);
        return 1;
    }
    if (!(mc = rd_kafka_mock_cluster_new(rk, (int)brokers))) {
        fprintf(stderr, TOOL ": could not create a mock cluster of %ld broker(s)\n", brokers);
        rd_kafka_destroy(rk);
        close(sfd);
        return 1;
    }
    if (platform) {
        /* the library's table of the platform topics (default names), with
         * their dead-letter topics */
        vtev_topic_spec_t specs[8];
        size_t n = vtev_platform_topic_specs(NULL, specs, sizeof(specs) / sizeof(specs[0]));
        for (i = 0; i < n && i < sizeof(specs) / sizeof(specs[0]); i++) {
            rd_kafka_resp_err_t err =
                rd_kafka_mock_topic_create(mc, specs[i].name, specs[i].partitions, (int)rf);
            if (err) {
                fprintf(stderr, TOOL ": creating %s: %s\n", specs[i].name, rd_kafka_err2str(err));
                rc = 1;
                goto out;
            }
        }
    }
    for (c = 0; c < ntopics; c++) {
        char name[256];
        const char *colon = strrchr(extra[c], ':');
        long parts = 1;
        rd_kafka_resp_err_t err;
        snprintf(name, sizeof(name), "%.*s", (int)(colon - extra[c]), extra[c]);
        parse_long(colon + 1, 1, 10000, &parts);
        if ((err = rd_kafka_mock_topic_create(mc, name, (int)parts, (int)rf))) {
            fprintf(stderr, TOOL ": creating %s: %s\n", name, rd_kafka_err2str(err));
            rc = 1;
            goto out;
        }
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    if (verbose)
        fprintf(stderr, TOOL ": %ld broker(s) at %s; SIGINT/SIGTERM or `quit` stops\n", brokers,
                rd_kafka_mock_cluster_bootstraps(mc));

    for (;;) {
        struct pollfd pfd[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int r = poll(pfd, stdin_open ? 2 : 1, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, TOOL ": poll: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && verbose)
                fprintf(stderr, TOOL ": signal %u, stopping\n", si.ssi_signo);
            break;
        }
        if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            /* line-oriented protocol: read what is there, one line at a time */
            ssize_t len = 0, got;
            int quit = 0;
            while ((size_t)len < sizeof(line) - 1) {
                got = read(STDIN_FILENO, line + len, 1);
                if (got <= 0) {
                    if (got == 0 || errno != EINTR) {
                        stdin_open = 0; /* EOF: keep running until a signal */
                        break;
                    }
                    continue;
                }
                if (line[len++] == '\n')
                    break;
            }
            line[len] = '\0';
            if (len > 0)
                quit = run_command(mc, (int)brokers, line);
            if (quit)
                break;
        }
    }

out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    close(sfd);
    return rc;
}
