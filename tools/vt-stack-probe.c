/*
 * vt-stack-probe - ask a Kafka cluster for its metadata through librdkafka.
 *
 * scripts/stack.sh uses it to decide that a broker "really answers": the port
 * being open is not enough, a Metadata request must come back listing the
 * expected brokers. Deliberately depends on librdkafka only (not on
 * libvtevents), so the stack script can compile it on its own when no build
 * directory exists. Not installed.
 *
 *   vt-stack-probe -b 127.0.0.1:29092 [-w SECONDS] [-n BROKERS] [-i ID] [-x ID] [-q]
 *                  [-X KEY=VALUE] [-F FILE] [--create-acls FILE]
 *
 * -X and -F configure the connection (security.protocol, sasl.*, ssl.*) for
 * the secure stack (`scripts/stack.sh up --secure`, doc/security.md), and
 * --create-acls gives it its ACLs once it answers.
 *
 * Exit codes: 0 the cluster answered as expected, 1 it did not (within the
 * wait), 2 usage.
 */
#include <ctype.h>
#include <errno.h>
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
            "  -X KEY=VALUE           a librdkafka property (repeatable)\n"
            "  -F, --config FILE      properties file of libvtevents' form: its kafka.KEY\n"
            "                         lines and bootstrap.servers are used, other keys ignored\n"
            "      --create-acls FILE once the cluster answers, create the ACLs of FILE\n"
            "                         (lines: PRINCIPAL topic|group|cluster\n"
            "                         literal|prefixed NAME OP[,OP...]; # comments)\n"
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

/* Sets one librdkafka property; prints the reason and returns -1 on failure.
 * The message names the key only: the value may be a secret. */
static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                    const char *where) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return 0;
    fprintf(stderr, PROBE_NAME ": %s%s%s: %s\n", where ? where : "", where ? ": " : "", key,
            errstr);
    return -1;
}

/* -X KEY=VALUE */
static int conf_set_kv(rd_kafka_conf_t *conf, const char *kv) {
    char key[256];
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
        fprintf(stderr, PROBE_NAME ": -X: expected KEY=VALUE\n");
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return conf_set(conf, key, eq + 1, "-X");
}

static char *trim(char *s) {
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* -F FILE: "kafka.KEY=VALUE" lines become KEY=VALUE, bootstrap.servers is
 * taken as it is, other lines (the library's own keys) are skipped. */
static int conf_load_file(rd_kafka_conf_t *conf, const char *path) {
    FILE *fp = fopen(path, "r");
    char line[4096], where[600];
    int lineno = 0, rc = 0;
    if (!fp) {
        fprintf(stderr, PROBE_NAME ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), fp)) {
        char *s = trim(line), *sep, *key, *val;
        lineno++;
        if (!*s || *s == '#' || *s == '!')
            continue;
        if (!(sep = strpbrk(s, "=:"))) {
            fprintf(stderr, PROBE_NAME ": %s:%d: expected key=value\n", path, lineno);
            rc = -1;
            break;
        }
        *sep = '\0';
        key = trim(s);
        val = trim(sep + 1);
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (!strncmp(key, "kafka.", 6) && key[6])
            rc = conf_set(conf, key + 6, val, where);
        else if (!strcmp(key, "bootstrap.servers"))
            rc = conf_set(conf, key, val, where);
    }
    fclose(fp);
    return rc;
}

/* --create-acls FILE: every line's ACLs (ALLOW, any host) in one CreateAcls
 * request. Returns 0 when all were created. */
static int create_acls(rd_kafka_t *rk, const char *path) {
    FILE *fp = fopen(path, "r");
    char line[1024], errstr[512];
    rd_kafka_AclBinding_t *acls[512];
    size_t n = 0, i;
    int lineno = 0, rc = 0;
    if (!fp) {
        fprintf(stderr, PROBE_NAME ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), fp)) {
        char who[200], rtype[40], ptype[40], name[300], ops[200], principal[220], *op, *save;
        rd_kafka_ResourceType_t rt;
        rd_kafka_ResourcePatternType_t pt;
        char *s = trim(line);
        lineno++;
        if (!*s || *s == '#')
            continue;
        if (sscanf(s, "%199s %39s %39s %299s %199s", who, rtype, ptype, name, ops) != 5) {
            fprintf(stderr, PROBE_NAME ": %s:%d: expected PRINCIPAL TYPE PATTERN NAME OPS\n",
                    path, lineno);
            rc = -1;
            break;
        }
        /* librdkafka 2.0.2's Admin API has no TransactionalId resource type
         * (its AclBinding_new refuses Kafka's code 5): those lines are left to
         * scripts/stack/secure_txn_acls.py, which uses the Python peer. */
        if (!strcmp(rtype, "transactional-id"))
            continue;
        rt = !strcmp(rtype, "topic")              ? RD_KAFKA_RESOURCE_TOPIC
             : !strcmp(rtype, "group")            ? RD_KAFKA_RESOURCE_GROUP
             : !strcmp(rtype, "cluster")          ? RD_KAFKA_RESOURCE_BROKER
                                                  : RD_KAFKA_RESOURCE_UNKNOWN;
        pt = !strcmp(ptype, "literal")    ? RD_KAFKA_RESOURCE_PATTERN_LITERAL
             : !strcmp(ptype, "prefixed") ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED
                                          : RD_KAFKA_RESOURCE_PATTERN_UNKNOWN;
        if (rt == RD_KAFKA_RESOURCE_UNKNOWN || pt == RD_KAFKA_RESOURCE_PATTERN_UNKNOWN) {
            fprintf(stderr,
                    PROBE_NAME ": %s:%d: resource type \"%s\" (topic, group, cluster; transactional-id is skipped) "
                               "or pattern \"%s\" (literal, prefixed) unknown\n",
                    path, lineno, rtype, ptype);
            rc = -1;
            break;
        }
        snprintf(principal, sizeof(principal), "User:%s", who);
        for (op = strtok_r(ops, ",", &save); op && rc == 0; op = strtok_r(NULL, ",", &save)) {
            static const struct {
                const char *name;
                rd_kafka_AclOperation_t op;
            } opnames[] = {{"READ", RD_KAFKA_ACL_OPERATION_READ},
                           {"WRITE", RD_KAFKA_ACL_OPERATION_WRITE},
                           {"DESCRIBE", RD_KAFKA_ACL_OPERATION_DESCRIBE},
                           {"CREATE", RD_KAFKA_ACL_OPERATION_CREATE},
                           {"DELETE", RD_KAFKA_ACL_OPERATION_DELETE},
                           {"ALTER", RD_KAFKA_ACL_OPERATION_ALTER},
                           {"DESCRIBE_CONFIGS", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
                           {"IDEMPOTENT_WRITE", RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE}};
            size_t k;
            for (k = 0; k < sizeof(opnames) / sizeof(opnames[0]); k++)
                if (!strcmp(op, opnames[k].name))
                    break;
            if (k == sizeof(opnames) / sizeof(opnames[0])) {
                fprintf(stderr, PROBE_NAME ": %s:%d: operation \"%s\" unknown\n", path, lineno,
                        op);
                rc = -1;
            } else if (n == sizeof(acls) / sizeof(acls[0])) {
                fprintf(stderr, PROBE_NAME ": %s:%d: more than %zu ACLs\n", path, lineno, n);
                rc = -1;
            } else if (!(acls[n] = rd_kafka_AclBinding_new(
                             rt, rt == RD_KAFKA_RESOURCE_BROKER ? "kafka-cluster" : name, pt,
                             principal, "*", opnames[k].op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                             errstr, sizeof(errstr)))) {
                fprintf(stderr, PROBE_NAME ": %s:%d: %s\n", path, lineno, errstr);
                rc = -1;
            } else {
                n++;
            }
        }
    }
    fclose(fp);
    if (rc == 0 && n > 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATEACLS);
        rd_kafka_event_t *ev;
        rd_kafka_AdminOptions_set_request_timeout(o, 30000, errstr, sizeof(errstr));
        rd_kafka_CreateAcls(rk, acls, n, o, q);
        ev = rd_kafka_queue_poll(q, 60000);
        if (!ev) {
            fprintf(stderr, PROBE_NAME ": CreateAcls: no answer within 60 s\n");
            rc = -1;
        } else if (rd_kafka_event_error(ev)) {
            fprintf(stderr, PROBE_NAME ": CreateAcls: %s\n", rd_kafka_event_error_string(ev));
            rc = -1;
        } else {
            size_t cnt = 0;
            const rd_kafka_acl_result_t **res =
                rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &cnt);
            for (i = 0; i < cnt; i++) {
                const rd_kafka_error_t *e = rd_kafka_acl_result_error(res[i]);
                if (e) {
                    fprintf(stderr, PROBE_NAME ": CreateAcls: ACL %zu of %s: %s\n", i + 1, path,
                            rd_kafka_error_string(e));
                    rc = -1;
                }
            }
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    for (i = 0; i < n; i++)
        rd_kafka_AclBinding_destroy(acls[i]);
    return rc;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},  {"wait", required_argument, NULL, 'w'},
        {"min-brokers", required_argument, NULL, 'n'}, {"has-broker", required_argument, NULL, 'i'},
        {"lacks-broker", required_argument, NULL, 'x'}, {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, 'F'},   {"create-acls", required_argument, NULL, 1000},
        {NULL, 0, NULL, 0}};
    const char *bootstrap = NULL, *acl_file = NULL;
    long wait_s = 0, min_brokers = 1, want_id = -1, lack_id = -1;
    int quiet = 0, c, ok = 0;
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    const struct rd_kafka_metadata *md = NULL;
    double deadline;
    char why[640] = "no answer", bs[400];

    conf = rd_kafka_conf_new();
    while ((c = getopt_long(argc, argv, "b:w:n:i:x:X:F:qVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            bootstrap = optarg;
            break;
        case 'X':
            if (conf_set_kv(conf, optarg))
                goto usage_fail;
            break;
        case 'F':
            if (conf_load_file(conf, optarg))
                goto usage_fail;
            break;
        case 1000:
            acl_file = optarg;
            break;
        case 'w':
            if (parse_int(optarg, "--wait", 0, 3600, &wait_s))
                goto usage_fail;
            break;
        case 'n':
            if (parse_int(optarg, "--min-brokers", 0, 1000, &min_brokers))
                goto usage_fail;
            break;
        case 'i':
            if (parse_int(optarg, "--has-broker", 0, 1L << 30, &want_id))
                goto usage_fail;
            break;
        case 'x':
            if (parse_int(optarg, "--lacks-broker", 0, 1L << 30, &lack_id))
                goto usage_fail;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'V':
            printf(PROBE_NAME " (libvtevents stack helper)\nlibrdkafka %s\n", rd_kafka_version_str());
            rd_kafka_conf_destroy(conf);
            return 0;
        case 'h':
            usage(stdout);
            rd_kafka_conf_destroy(conf);
            return 0;
        default:
            usage(stderr);
            goto usage_fail;
        }
    }
    {
        size_t bsz = 0; /* -b, else the file's bootstrap.servers */
        if ((!bootstrap && (rd_kafka_conf_get(conf, "bootstrap.servers", NULL, &bsz) !=
                                RD_KAFKA_CONF_OK ||
                            bsz <= 1)) ||
            optind != argc) {
            usage(stderr);
            goto usage_fail;
        }
    }
    if ((bootstrap &&
         rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr))) ||
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

    {
        size_t bsz = sizeof(bs);
        if (rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", bs, &bsz) != RD_KAFKA_CONF_OK)
            snprintf(bs, sizeof(bs), "?");
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
            snprintf(why, sizeof(why), "metadata request to %s: %s", bs, rd_kafka_err2str(err));
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
    if (ok && acl_file && create_acls(rk, acl_file))
        ok = 0;
    rd_kafka_destroy(rk);
    return ok ? 0 : 1;

usage_fail:
    rd_kafka_conf_destroy(conf);
    return 2;
}
