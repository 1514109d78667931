/*
 * vt-topics - the platform's topics: create them (idempotently, with the
 * platform's partitions, retention and compression), list, describe, and
 * show a consumer group's lag.
 */
#include "common.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TOOL "vt-topics"

#define OPT_TIMEOUT 900

static void usage(FILE *out) {
    fprintf(out,
            "usage: " TOOL " [options] create [--replication N]\n"
            "       " TOOL " [options] list\n"
            "       " TOOL " [options] describe TOPIC\n"
            "       " TOOL " [options] lag -g GROUP [TOPIC ...]\n"
            "\n"
            "  create     creates the three event topics (topic.position, topic.request,\n"
            "             topic.result: 3, 5, 3 partitions; retention 7 days, 1 day, 7 days;\n"
            "             gzip) and their dead-letter topics (<topic><dlq.suffix>: 1 partition,\n"
            "             14 days, gzip), and with consumer.retry.tiers=N the retry\n"
            "             topics <topic>.retry.1 ... .retry.N of the topics that use them\n"
            "             (consumer.retry.tier.topics). Idempotent: a topic that exists\n"
            "             with the same settings is left alone (\"exists\"), one that\n"
            "             exists with other settings is reported (\"differs\", on stdout\n"
            "             and stderr) and NOT changed. Prints one line per topic:\n"
            "             STATUS TOPIC [DETAIL].\n"
            "  list       the cluster's topics (internal ones excluded), one per line\n"
            "  describe   partitions (leader, replicas, in-sync replicas) and settings\n"
            "  lag        committed offset, watermarks and lag of GROUP on every partition\n"
            "             of the TOPICs (default: the three event topics), and the total\n"
            "\n"
            "  -R, --replication N   replicas per partition for create (default: the\n"
            "                        broker's default.replication.factor)\n"
            "  -g, --group GROUP     the consumer group for lag\n"
            "      --timeout MS      bound of each admin request (default 30000)\n"
            "\n" VT_COMMON_HELP
            "\n"
            "Exit status: 0 ok (also when create found topics with other settings);\n"
            "1 runtime failure (broker unreachable, a topic could not be created, no such\n"
            "topic); 2 usage or invalid configuration. See vt-topics(1).\n");
}

static const char *status_name(vtev_topic_status_t s) {
    switch (s) {
    case VTEV_TOPIC_CREATED:
        return "created";
    case VTEV_TOPIC_EXISTS:
        return "exists";
    case VTEV_TOPIC_DIFFERS:
        return "differs";
    default:
        return "failed";
    }
}

static int cmd_create(vt_common_t *c, vtev_admin_t *admin, const vtev_conf_t *conf,
                      int replication, int timeout_ms) {
    vtev_topic_spec_t specs[64]; /* 6, and at most 3 x 10 retry tiers */
    vtev_topic_result_t results[64];
    char errstr[512] = "";
    size_t n = vtev_platform_topic_specs(conf, specs, 64), i, j, k;
    vtev_err_t err;
    int rc = VT_EXIT_OK;
    if (n > 64)
        n = 64;
    /* Several event types may share a topic: ask for each topic once (the
     * first spec wins; the others are reported when they differ). */
    for (i = 0, k = 0; i < n; i++) {
        for (j = 0; j < k; j++)
            if (strcmp(specs[j].name, specs[i].name) == 0)
                break;
        if (j < k) {
            if (specs[j].partitions != specs[i].partitions ||
                specs[j].retention_ms != specs[i].retention_ms)
                vt_info(c, "%s is configured for several event types; created as the first "
                           "one wants (%d partitions, retention.ms %lld)",
                        specs[j].name, specs[j].partitions, (long long)specs[j].retention_ms);
            continue;
        }
        if (k != i)
            specs[k] = specs[i];
        k++;
    }
    n = k;
    err = vtev_admin_create_topics(admin, specs, n, replication, results, timeout_ms, errstr,
                                   sizeof(errstr));
    for (i = 0; i < n; i++) {
        /* the library's detail may repeat the topic name */
        size_t nl = strlen(results[i].name);
        const char *detail = results[i].detail;
        if (strncmp(detail, results[i].name, nl) == 0 && strncmp(detail + nl, ": ", 2) == 0)
            memmove(results[i].detail, detail + nl + 2, strlen(detail + nl + 2) + 1);
        if (results[i].detail[0])
            printf("%s %s %s\n", status_name(results[i].status), results[i].name,
                   results[i].detail);
        else
            printf("%s %s\n", status_name(results[i].status), results[i].name);
        if (results[i].status == VTEV_TOPIC_DIFFERS)
            vt_err(c, "%s exists with other settings, left unchanged: %s", results[i].name,
                   results[i].detail);
        if (results[i].status == VTEV_TOPIC_FAILED) {
            vt_err(c, "%s: %s", results[i].name, results[i].detail);
            rc = VT_EXIT_FAIL;
        }
    }
    if (err != VTEV_ERR_OK) {
        if (errstr[0])
            vt_err(c, "create: %s", errstr);
        rc = VT_EXIT_FAIL;
    }
    return rc;
}

static int cmd_list(vt_common_t *c, vtev_admin_t *admin, int timeout_ms) {
    char **names = NULL;
    size_t cnt = 0, i;
    char errstr[512];
    if (vtev_admin_list_topics(admin, &names, &cnt, timeout_ms, errstr, sizeof(errstr)) !=
        VTEV_ERR_OK) {
        vt_err(c, "list: %s", errstr);
        return VT_EXIT_FAIL;
    }
    for (i = 0; i < cnt; i++)
        printf("%s\n", names[i]);
    vtev_admin_list_free(names, cnt);
    return VT_EXIT_OK;
}

static int cmd_describe(vt_common_t *c, vtev_admin_t *admin, const char *topic,
                        int timeout_ms) {
    vtev_topic_desc_t *d = NULL;
    char errstr[512];
    vtev_err_t err;
    int i;
    err = vtev_admin_describe_topic(admin, topic, &d, timeout_ms, errstr, sizeof(errstr));
    if (err != VTEV_ERR_OK) {
        vt_err(c, "%s: %s", topic, err == VTEV_ERR_NOT_FOUND ? "no such topic" : errstr);
        return VT_EXIT_FAIL;
    }
    printf("topic %s\n", d->name);
    printf("partitions %d\n", d->partition_cnt);
    printf("retention.ms %" PRId64 "\n", d->retention_ms);
    printf("compression.type %s\n", d->compression[0] ? d->compression : "-");
    printf("cleanup.policy %s\n", d->cleanup_policy[0] ? d->cleanup_policy : "-");
    if (d->min_insync_replicas > 0)
        printf("min.insync.replicas %d\n", d->min_insync_replicas);
    else
        printf("min.insync.replicas -\n");
    for (i = 0; i < d->partition_cnt; i++)
        printf("partition %d leader %d replicas %d isr %d\n", (int)d->partitions[i].id,
               (int)d->partitions[i].leader, d->partitions[i].replica_cnt,
               d->partitions[i].isr_cnt);
    vtev_topic_desc_destroy(d);
    return VT_EXIT_OK;
}

static int cmd_lag(vt_common_t *c, vtev_admin_t *admin, const vtev_conf_t *conf,
                   const char *group, char *const *topics, size_t topic_cnt, int timeout_ms) {
    vtev_group_lag_t *lag = NULL;
    size_t cnt = 0, i;
    int64_t total = 0;
    char errstr[512];
    char *conf_topics[3] = {NULL, NULL, NULL};
    vtev_err_t err;
    if (topic_cnt == 0) {
        /* the three event topics as configured (topic.position, ...) */
        conf_topics[0] = vt_topic_of(conf, VTEV_EVENT_POSITION);
        conf_topics[1] = vt_topic_of(conf, VTEV_EVENT_REQUEST);
        conf_topics[2] = vt_topic_of(conf, VTEV_EVENT_RESULT);
        if (!conf_topics[0] || !conf_topics[1] || !conf_topics[2]) {
            vt_err(c, "out of memory");
            for (i = 0; i < 3; i++)
                free(conf_topics[i]);
            return VT_EXIT_FAIL;
        }
        topics = conf_topics;
        topic_cnt = 3;
    }
    err = vtev_admin_group_lag(admin, group, (const char *const *)topics, topic_cnt, &lag, &cnt,
                               timeout_ms, errstr, sizeof(errstr));
    for (i = 0; i < 3; i++)
        free(conf_topics[i]);
    if (err != VTEV_ERR_OK) {
        vt_err(c, "lag: %s", errstr);
        return VT_EXIT_FAIL;
    }
    printf("%-40s %9s %12s %12s %12s %12s\n", "TOPIC", "PARTITION", "COMMITTED", "LOW", "HIGH",
           "LAG");
    for (i = 0; i < cnt; i++) {
        char committed[32];
        if (lag[i].committed >= 0)
            snprintf(committed, sizeof(committed), "%" PRId64, lag[i].committed);
        else
            snprintf(committed, sizeof(committed), "-");
        printf("%-40s %9d %12s %12" PRId64 " %12" PRId64 " %12" PRId64 "\n", lag[i].topic,
               (int)lag[i].partition, committed, lag[i].low, lag[i].high, lag[i].lag);
        total += lag[i].lag;
    }
    printf("total lag %" PRId64 "\n", total);
    vtev_free(lag);
    return VT_EXIT_OK;
}

int main(int argc, char **argv) {
    vt_common_t c;
    static const struct option longopts[] = {
        VT_COMMON_LONGOPTS,
        {"replication", required_argument, NULL, 'R'},
        {"group", required_argument, NULL, 'g'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {NULL, 0, NULL, 0},
    };
    const char *group = NULL, *cmd;
    long long replication = -1, timeout = 30000;
    vtev_conf_t *conf, *aconf;
    vtev_admin_t *admin;
    char errstr[512];
    int opt, rc;

    vt_common_init(&c, TOOL);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, VT_COMMON_SHORTOPTS "R:g:", longopts, NULL)) != -1) {
        int r = vt_common_opt(&c, opt, optarg);
        if (r < 0) {
            vt_err(&c, "out of memory");
            return VT_EXIT_FAIL;
        }
        if (r > 0)
            continue;
        switch (opt) {
        case 'R':
            if (vt_parse_int64(optarg, &replication) != 0 || replication < 1 ||
                replication > 32767) {
                vt_err(&c, "--replication: \"%s\" is not an integer in [1, 32767]", optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case 'g':
            group = optarg;
            break;
        case OPT_TIMEOUT:
            if (vt_parse_int64(optarg, &timeout) != 0 || timeout < 1 || timeout > 3600000) {
                vt_err(&c, "--timeout: \"%s\" is not a number of milliseconds in [1, 3600000]",
                       optarg);
                return VT_EXIT_USAGE;
            }
            break;
        case ':':
            vt_err(&c, "%s: needs a value (see --help)", argv[optind - 1]);
            return VT_EXIT_USAGE;
        default:
            vt_err(&c, "%s: unknown option (see --help)", argv[optind - 1]);
            return VT_EXIT_USAGE;
        }
    }
    if (c.want_help) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    if (c.want_version) {
        vt_common_print_version(&c);
        return VT_EXIT_OK;
    }
    if (optind >= argc) {
        vt_err(&c, "give a command: create, list, describe TOPIC or lag -g GROUP (see --help)");
        return VT_EXIT_USAGE;
    }
    cmd = argv[optind++];
    if (strcmp(cmd, "create") == 0 || strcmp(cmd, "list") == 0) {
        if (optind < argc) {
            vt_err(&c, "%s: unexpected argument to %s", argv[optind], cmd);
            return VT_EXIT_USAGE;
        }
    } else if (strcmp(cmd, "describe") == 0) {
        if (optind + 1 != argc) {
            vt_err(&c, "describe: give exactly one TOPIC");
            return VT_EXIT_USAGE;
        }
    } else if (strcmp(cmd, "lag") == 0) {
        if (!group || !*group) {
            vt_err(&c, "lag: -g GROUP is required");
            return VT_EXIT_USAGE;
        }
    } else {
        vt_err(&c, "%s: unknown command (create, list, describe, lag)", cmd);
        return VT_EXIT_USAGE;
    }
    if (replication != -1 && strcmp(cmd, "create") != 0) {
        vt_err(&c, "--replication: only with create");
        return VT_EXIT_USAGE;
    }
    if (group && strcmp(cmd, "lag") != 0) {
        vt_err(&c, "-g: only with lag");
        return VT_EXIT_USAGE;
    }

    conf = vt_common_conf(&c, &rc);
    if (!conf)
        return rc;
    vt_signals_install();
    aconf = vtev_conf_dup(conf);
    if (!aconf) {
        vt_err(&c, "out of memory");
        vtev_conf_destroy(conf);
        return VT_EXIT_FAIL;
    }
    admin = vtev_admin_new(aconf, errstr, sizeof(errstr));
    if (!admin) {
        vt_err(&c, "cannot create the admin client: %s", errstr);
        vtev_conf_destroy(aconf);
        vtev_conf_destroy(conf);
        return VT_EXIT_FAIL;
    }
    if (strcmp(cmd, "create") == 0)
        rc = cmd_create(&c, admin, conf, (int)replication, (int)timeout);
    else if (strcmp(cmd, "list") == 0)
        rc = cmd_list(&c, admin, (int)timeout);
    else if (strcmp(cmd, "describe") == 0)
        rc = cmd_describe(&c, admin, argv[optind], (int)timeout);
    else
        rc = cmd_lag(&c, admin, conf, group, argv + optind, (size_t)(argc - optind), (int)timeout);
    fflush(stdout);
    vtev_admin_destroy(admin);
    vtev_conf_destroy(conf);
    vt_common_clear(&c);
    return rc;
}
