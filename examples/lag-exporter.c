/*
 * lag-exporter - the lag of consumer groups, read from the brokers (the
 * groups' committed offsets against the partitions' high watermarks) at each
 * scrape and served on --http /metrics.
 *
 * A consumer reports its own lag (vtev_consumer_lag_messages) only while it
 * runs; a group whose members are all stopped is seen from outside only.
 * This program is that outside view, and what the platform's lag alert reads
 * when the persister is down (doc/monitoring.md).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "http.h"

#define MAX_GROUPS 16
#define MAX_TOPICS 16

typedef struct exporter_s {
    vtev_admin_t *admin;
    const char *groups[MAX_GROUPS];
    size_t group_cnt;
    const char *topics[MAX_TOPICS];
    size_t topic_cnt;
    atomic_uint_fast64_t errors;
} exporter_t;

/* Label values here are group and topic names: Kafka allows [a-zA-Z0-9._-]
 * in topics, and a group id is escaped as the text format asks. */
static int put_escaped(char **b, size_t *len, size_t *cap, const char *s) {
    for (; *s; s++) {
        int rc = *s == '\\' ? ex_http_appendf(b, len, cap, "\\\\")
                 : *s == '"' ? ex_http_appendf(b, len, cap, "\\\"")
                 : *s == '\n' ? ex_http_appendf(b, len, cap, "\\n")
                              : ex_http_appendf(b, len, cap, "%c", *s);
        if (rc)
            return -1;
    }
    return 0;
}

static int lag_metrics(char **b, size_t *len, size_t *cap, void *opaque) {
    exporter_t *x = opaque;
    size_t g, i;
    char e[512];
    if (ex_http_appendf(b, len, cap,
                        "# HELP vtev_group_lag_messages Messages of a partition not yet committed "
                        "by the consumer group (high watermark minus committed offset; minus the "
                        "low watermark without a commit), read from the brokers at the scrape.\n"
                        "# TYPE vtev_group_lag_messages gauge\n"))
        return -1;
    for (g = 0; g < x->group_cnt; g++) {
        vtev_group_lag_t *lag = NULL;
        size_t cnt = 0;
        if (vtev_admin_group_lag(x->admin, x->groups[g], x->topic_cnt ? x->topics : NULL,
                                 x->topic_cnt, &lag, &cnt, 5000, e, sizeof(e)) != VTEV_ERR_OK) {
            atomic_fetch_add(&x->errors, 1);
            fprintf(stderr, "lag-exporter: group %s: %s\n", x->groups[g], e);
            continue;
        }
        for (i = 0; i < cnt; i++) {
            if (ex_http_appendf(b, len, cap, "vtev_group_lag_messages{group=\"") ||
                put_escaped(b, len, cap, x->groups[g]) ||
                ex_http_appendf(b, len, cap, "\",topic=\"%s\",partition=\"%d\"} %" PRId64 "\n",
                                lag[i].topic, (int)lag[i].partition, lag[i].lag)) {
                vtev_free(lag);
                return -1;
            }
        }
        vtev_free(lag);
    }
    return ex_http_appendf(b, len, cap,
                           "# HELP vtev_group_lag_errors_total Scrapes whose lag query of a "
                           "group failed.\n"
                           "# TYPE vtev_group_lag_errors_total counter\n"
                           "vtev_group_lag_errors_total %llu\n",
                           (unsigned long long)atomic_load(&x->errors));
}

static const char usage[] =
    "usage: lag-exporter -g GROUP [-g GROUP ...] [-t TOPIC ...] --http HOST:PORT [OPTIONS]\n"
    "Serves the lag of consumer groups, read from the brokers at each scrape, on /metrics\n"
    "as vtev_group_lag_messages{group,topic,partition} (and /healthz, /readyz).\n\n"
    "  -g, --group GROUP  a consumer group (repeatable, at most 16)\n"
    "  -t, --topic TOPIC  a topic (repeatable, at most 16; default: the three platform\n"
    "                     topics of the configuration)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        EX_HTTP_LONGOPT,
        {"group", required_argument, NULL, 'g'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static exporter_t x;
    ex_cli_t cli = {0};
    ex_http_t *http = NULL;
    vtev_conf_t *conf;
    char errstr[512];
    int c, r;

    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS "g:t:", longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&cli, c, optarg, "lag-exporter", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        switch (c) {
        case 'g':
            if (!*optarg || x.group_cnt == MAX_GROUPS) {
                fprintf(stderr, "lag-exporter: -g %s: a non-empty group, at most %d\n", optarg,
                        MAX_GROUPS);
                return 2;
            }
            x.groups[x.group_cnt++] = optarg;
            break;
        case 't':
            if (!*optarg || x.topic_cnt == MAX_TOPICS) {
                fprintf(stderr, "lag-exporter: -t %s: a non-empty topic, at most %d\n", optarg,
                        MAX_TOPICS);
                return 2;
            }
            x.topics[x.topic_cnt++] = optarg;
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!x.group_cnt || !cli.http) {
        fprintf(stderr, "lag-exporter: -g GROUP and --http HOST:PORT are required (see --help)\n");
        return 2;
    }
    if (!(conf = ex_cli_conf(&cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "lag-exporter: %s\n", errstr);
        return 2;
    }
    if (!(x.admin = vtev_admin_new(conf, errstr, sizeof(errstr)))) {
        fprintf(stderr, "lag-exporter: %s\n", errstr);
        vtev_conf_destroy(conf);
        return 2;
    }
    ex_stop_on_signals();
    if (!(http = ex_http_start(cli.http, "lag-exporter", lag_metrics, &x, errstr,
                               sizeof(errstr)))) {
        fprintf(stderr, "lag-exporter: %s\n", errstr);
        vtev_admin_destroy(x.admin);
        return 1;
    }
    if (cli.verbosity >= 0)
        fprintf(stderr, "lag-exporter: serving the lag of %zu group(s) on port %d\n", x.group_cnt,
                ex_http_port(http));
    while (!atomic_load(&ex_interrupted))
        ex_sleep_ms(100);
    ex_http_stop(http);
    vtev_admin_destroy(x.admin);
    return 0;
}
