/*
 * admin.c - platform topics (create idempotently, list, describe) and group lag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/admin.h>

#include "conf_int.h"
#include "rdkafka_int.h"

struct vtev_admin_s {
    vtev_conf_t *conf;
    rd_kafka_t *rk;
};

#define DAY_MS ((int64_t)24 * 3600 * 1000)

/* The platform's topics: the one table. The admin client creates them with
 * these settings; the embedded mock cluster (mock_cluster.c) and
 * vt-mock-cluster create them with these partitions, through
 * vtev_platform_topic_specs(). Their names are the keys' values (conf.c has
 * the defaults); every event topic has a dead-letter topic. */
static const struct {
    const char *key;
    int partitions;
    int64_t retention_ms;
} platform_topics[] = {
    {"topic.position", 3, 7 * DAY_MS},
    {"topic.request", 5, 1 * DAY_MS},
    {"topic.result", 3, 7 * DAY_MS},
};
#define DLQ_PARTITIONS 1
#define DLQ_RETENTION_MS (14 * DAY_MS)

size_t vtev_platform_topic_specs(const vtev_conf_t *conf, vtev_topic_spec_t *specs, size_t max) {
    const char *suffix = vtev__conf_str(conf, "dlq.suffix"); /* conf NULL: the defaults */
    size_t i, n = 0;
    for (i = 0; i < VTEV_ARRAY_SIZE(platform_topics); i++) {
        const char *name = vtev__conf_str(conf, platform_topics[i].key);
        if (n < max) {
            snprintf(specs[n].name, sizeof(specs[n].name), "%s", name);
            specs[n].partitions = platform_topics[i].partitions;
            specs[n].retention_ms = platform_topics[i].retention_ms;
            snprintf(specs[n].compression, sizeof(specs[n].compression), "%s",
                     VTEV__PLATFORM_COMPRESSION);
        }
        n++;
        if (n < max) {
            snprintf(specs[n].name, sizeof(specs[n].name), "%s%s", name, suffix);
            specs[n].partitions = DLQ_PARTITIONS;
            specs[n].retention_ms = DLQ_RETENTION_MS;
            snprintf(specs[n].compression, sizeof(specs[n].compression), "%s",
                     VTEV__PLATFORM_COMPRESSION);
        }
        n++;
        if (vtev__consumer_tiered_topic(conf, name)) {
            int64_t t, tiers = vtev__conf_int(conf, "consumer.retry.tiers");
            for (t = 1; t <= tiers; t++, n++)
                if (n < max) {
                    snprintf(specs[n].name, sizeof(specs[n].name), "%s.retry.%d", name, (int)t);
                    specs[n].partitions = platform_topics[i].partitions;
                    specs[n].retention_ms = platform_topics[i].retention_ms;
                    snprintf(specs[n].compression, sizeof(specs[n].compression), "%s",
                             VTEV__PLATFORM_COMPRESSION);
                }
        }
    }
    return n;
}

static rd_kafka_t *new_rk(const vtev_conf_t *conf, rd_kafka_type_t type, const char *group,
                          char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *rkc = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char rkerr[512];
    if (!rkc) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (vtev__conf_apply_kafka(conf, rkc, errstr, errstr_size) != VTEV_ERR_OK) {
        rd_kafka_conf_destroy(rkc);
        return NULL;
    }
    if (group && rd_kafka_conf_set(rkc, "group.id", group, rkerr, sizeof(rkerr)) !=
                     RD_KAFKA_CONF_OK) {
        vtev__seterr(errstr, errstr_size, "group.id: %s", rkerr);
        rd_kafka_conf_destroy(rkc);
        return NULL;
    }
    if (!(rk = rd_kafka_new(type, rkc, rkerr, sizeof(rkerr)))) {
        vtev__seterr(errstr, errstr_size, "%s", rkerr);
        rd_kafka_conf_destroy(rkc);
        return NULL;
    }
    return rk;
}

vtev_admin_t *vtev_admin_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    vtev_admin_t *a;
    if (!conf) {
        vtev__seterr(errstr, errstr_size, "vtev_admin_new: conf must not be NULL");
        return NULL;
    }
    if (!(a = calloc(1, sizeof(*a)))) {
        vtev__seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (!(a->rk = new_rk(conf, RD_KAFKA_PRODUCER, NULL, errstr, errstr_size))) {
        free(a);
        return NULL;
    }
    a->conf = conf;
    return a;
}

void vtev_admin_destroy(vtev_admin_t *a) {
    if (!a)
        return;
    rd_kafka_destroy(a->rk);
    vtev_conf_destroy(a->conf);
    free(a);
}

static vtev_err_t get_metadata(vtev_admin_t *a, const rd_kafka_metadata_t **mdp, int timeout_ms,
                               char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 1, NULL, mdp, timeout_ms);
    if (e)
        return vtev__fail(vtev__kafka_err(e), errstr, errstr_size, "metadata request failed: %s",
                          rd_kafka_err2str(e));
    return VTEV_ERR_OK;
}

static const rd_kafka_metadata_topic_t *md_topic(const rd_kafka_metadata_t *md,
                                                 const char *name) {
    int i;
    for (i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, name) &&
            md->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return &md->topics[i];
    return NULL;
}

/* Waits for one admin result event on q. */
static rd_kafka_event_t *wait_event(rd_kafka_queue_t *q, rd_kafka_event_type_t type,
                                    int timeout_ms) {
    rd_kafka_event_t *ev;
    while ((ev = rd_kafka_queue_poll(q, timeout_ms))) {
        if (rd_kafka_event_type(ev) == type)
            return ev;
        rd_kafka_event_destroy(ev);
    }
    return NULL;
}

typedef struct {
    int64_t retention_ms;
    char compression[32];
    char cleanup_policy[32];
    int min_isr;
} topic_cfg_t;

static vtev_err_t describe_configs(vtev_admin_t *a, const char *topic, topic_cfg_t *cfg,
                                   int timeout_ms, char *errstr, size_t errstr_size) {
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_event_t *ev;
    const rd_kafka_DescribeConfigs_result_t *r;
    const rd_kafka_ConfigResource_t **rs;
    size_t rcnt, i, ecnt;
    vtev_err_t err = VTEV_ERR_OK;

    memset(cfg, 0, sizeof(*cfg));
    cfg->retention_ms = -1;
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
    rd_kafka_DescribeConfigs(a->rk, &res, 1, opts, q);
    ev = wait_event(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout_ms + 1000);
    if (!ev) {
        err = vtev__fail(VTEV_ERR_TIMED_OUT, errstr, errstr_size, "%s: describe configs timed out",
                         topic);
        goto done;
    }
    if (rd_kafka_event_error(ev)) {
        err = vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%s: %s", topic,
                         rd_kafka_event_error_string(ev));
        goto done;
    }
    r = rd_kafka_event_DescribeConfigs_result(ev);
    rs = rd_kafka_DescribeConfigs_result_resources(r, &rcnt);
    if (rcnt < 1 || rd_kafka_ConfigResource_error(rs[0])) {
        err = vtev__fail(rcnt >= 1 && rd_kafka_ConfigResource_error(rs[0]) ==
                                 RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                             ? VTEV_ERR_NOT_FOUND
                             : VTEV_ERR_KAFKA,
                         errstr, errstr_size, "%s: %s", topic,
                         rcnt < 1 ? "no result" : rd_kafka_ConfigResource_error_string(rs[0]));
        goto done;
    }
    {
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(rs[0], &ecnt);
        for (i = 0; i < ecnt; i++) {
            const char *n = rd_kafka_ConfigEntry_name(entries[i]);
            const char *v = rd_kafka_ConfigEntry_value(entries[i]);
            if (!v)
                continue;
            if (!strcmp(n, "retention.ms"))
                cfg->retention_ms = strtoll(v, NULL, 10);
            else if (!strcmp(n, "compression.type"))
                snprintf(cfg->compression, sizeof(cfg->compression), "%s", v);
            else if (!strcmp(n, "cleanup.policy"))
                snprintf(cfg->cleanup_policy, sizeof(cfg->cleanup_policy), "%s", v);
            else if (!strcmp(n, "min.insync.replicas"))
                cfg->min_isr = atoi(v);
        }
    }
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return err;
}

/* Partition count of an existing topic, waiting (bounded) for it to show up in
 * the metadata of a broker that has not heard of it yet. -1 when it never does. */
static int existing_partitions(vtev_admin_t *a, const char *topic, int64_t deadline,
                               int timeout_ms) {
    do {
        const rd_kafka_metadata_t *md;
        if (get_metadata(a, &md, timeout_ms, NULL, 0) == VTEV_ERR_OK) {
            const rd_kafka_metadata_topic_t *t = md_topic(md, topic);
            int n = t && !t->err ? t->partition_cnt : -1;
            rd_kafka_metadata_destroy(md);
            if (n >= 0)
                return n;
        }
        rd_kafka_poll(a->rk, 100);
    } while (vtev__now_mono_us() < deadline);
    return -1;
}

static void compare_existing(vtev_admin_t *a, const vtev_topic_spec_t *spec, int partitions,
                             vtev_topic_result_t *res, int timeout_ms) {
    topic_cfg_t cfg;
    char e[512];
    size_t off = 0;
    res->status = VTEV_TOPIC_EXISTS;
    int64_t deadline = vtev__now_mono_us() + (int64_t)timeout_ms * 1000;
    vtev_err_t err;
    res->detail[0] = '\0';
    /* A topic created a moment ago may not have reached every broker yet. */
    while ((err = describe_configs(a, spec->name, &cfg, timeout_ms, e, sizeof(e))) ==
               VTEV_ERR_NOT_FOUND &&
           vtev__now_mono_us() < deadline)
        rd_kafka_poll(a->rk, 100);
    if (err == VTEV_ERR_OK && partitions < 0 &&
        (partitions = existing_partitions(a, spec->name, deadline, timeout_ms)) < 0)
        err = vtev__fail(VTEV_ERR_TIMED_OUT, e, sizeof(e),
                         "%s: exists but its partitions are not in the metadata", spec->name);
    if (err != VTEV_ERR_OK) {
        res->status = VTEV_TOPIC_FAILED;
        snprintf(res->detail, sizeof(res->detail), "%s", e);
        return;
    }
#define DIFF(...)                                                                          \
    do {                                                                                   \
        int w_ = snprintf(res->detail + off, sizeof(res->detail) - off, "%s", off ? "; " : ""); \
        if (w_ > 0 && (size_t)w_ < sizeof(res->detail) - off)                              \
            off += (size_t)w_;                                                             \
        w_ = snprintf(res->detail + off, sizeof(res->detail) - off, __VA_ARGS__);          \
        if (w_ > 0 && (size_t)w_ < sizeof(res->detail) - off)                              \
            off += (size_t)w_;                                                             \
        res->status = VTEV_TOPIC_DIFFERS;                                                  \
    } while (0)
    if (partitions != spec->partitions)
        DIFF("partitions %d (want %d)", partitions, spec->partitions);
    if (cfg.retention_ms != spec->retention_ms)
        DIFF("retention.ms %lld (want %lld)", (long long)cfg.retention_ms,
             (long long)spec->retention_ms);
    if (strcmp(cfg.compression, spec->compression))
        DIFF("compression.type %s (want %s)", cfg.compression, spec->compression);
#undef DIFF
}

vtev_err_t vtev_admin_create_topics(vtev_admin_t *a, const vtev_topic_spec_t *specs, size_t cnt,
                                    int replication_factor, vtev_topic_result_t *results,
                                    int timeout_ms, char *errstr, size_t errstr_size) {
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_NewTopic_t **nts = NULL;
    size_t *nt_idx = NULL, ntcnt = 0, i, failed = 0;
    vtev_err_t err;

    if (!a || (!specs && cnt) || (!results && cnt))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_admin_create_topics: NULL argument");
    if ((err = get_metadata(a, &md, timeout_ms, errstr, errstr_size)))
        return err;
    nts = calloc(cnt ? cnt : 1, sizeof(*nts));
    nt_idx = calloc(cnt ? cnt : 1, sizeof(*nt_idx));
    if (!nts || !nt_idx) {
        free(nts);
        free(nt_idx);
        rd_kafka_metadata_destroy(md);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < cnt; i++) {
        const rd_kafka_metadata_topic_t *t = md_topic(md, specs[i].name);
        char e[512], ret[32];
        snprintf(results[i].name, sizeof(results[i].name), "%s", specs[i].name);
        results[i].detail[0] = '\0';
        if (t) {
            compare_existing(a, &specs[i], t->err ? -1 : t->partition_cnt, &results[i],
                             timeout_ms);
            continue;
        }
        nts[ntcnt] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions,
                                           replication_factor, e, sizeof(e));
        if (!nts[ntcnt]) {
            results[i].status = VTEV_TOPIC_FAILED;
            snprintf(results[i].detail, sizeof(results[i].detail), "%s", e);
            continue;
        }
        snprintf(ret, sizeof(ret), "%lld", (long long)specs[i].retention_ms);
        rd_kafka_NewTopic_set_config(nts[ntcnt], "retention.ms", ret);
        rd_kafka_NewTopic_set_config(nts[ntcnt], "compression.type", specs[i].compression);
        nt_idx[ntcnt++] = i;
    }
    rd_kafka_metadata_destroy(md);

    if (ntcnt > 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_event_t *ev;
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
        rd_kafka_CreateTopics(a->rk, nts, ntcnt, opts, q);
        ev = wait_event(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout_ms + 2000);
        for (i = 0; i < ntcnt; i++) {
            vtev_topic_result_t *res = &results[nt_idx[i]];
            res->status = VTEV_TOPIC_FAILED;
            snprintf(res->detail, sizeof(res->detail), "%s",
                     ev ? rd_kafka_event_error_string(ev) : "create topics timed out");
        }
        if (ev && !rd_kafka_event_error(ev)) {
            size_t rcnt, j;
            const rd_kafka_topic_result_t **tr =
                rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &rcnt);
            for (j = 0; j < rcnt; j++) {
                const char *name = rd_kafka_topic_result_name(tr[j]);
                rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[j]);
                for (i = 0; i < ntcnt; i++) {
                    vtev_topic_result_t *res = &results[nt_idx[i]];
                    if (strcmp(res->name, name))
                        continue;
                    if (!te) {
                        res->status = VTEV_TOPIC_CREATED;
                        res->detail[0] = '\0';
                    } else if (te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                        /* Created concurrently by someone else: compare it. */
                        compare_existing(a, &specs[nt_idx[i]], -1, res, timeout_ms);
                    } else {
                        snprintf(res->detail, sizeof(res->detail), "%s",
                                 rd_kafka_topic_result_error_string(tr[j])
                                     ? rd_kafka_topic_result_error_string(tr[j])
                                     : rd_kafka_err2str(te));
                    }
                }
            }
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        for (i = 0; i < ntcnt; i++)
            rd_kafka_NewTopic_destroy(nts[i]);
    }
    free(nts);
    free(nt_idx);
    for (i = 0; i < cnt; i++)
        if (results[i].status == VTEV_TOPIC_FAILED)
            failed++;
    if (failed)
        return vtev__fail(VTEV_ERR_KAFKA, errstr, errstr_size, "%zu of %zu topics failed", failed,
                          cnt);
    return VTEV_ERR_OK;
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

vtev_err_t vtev_admin_list_topics(vtev_admin_t *a, char ***namesp, size_t *cntp, int timeout_ms,
                                  char *errstr, size_t errstr_size) {
    const rd_kafka_metadata_t *md;
    char **names;
    size_t n = 0;
    int i;
    vtev_err_t err;
    if (!a || !namesp || !cntp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_admin_list_topics: NULL argument");
    if ((err = get_metadata(a, &md, timeout_ms, errstr, errstr_size)))
        return err;
    if (!(names = calloc((size_t)md->topic_cnt + 1, sizeof(*names)))) {
        rd_kafka_metadata_destroy(md);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    for (i = 0; i < md->topic_cnt; i++) {
        if (md->topics[i].topic[0] == '_' || md->topics[i].err)
            continue; /* __consumer_offsets, __transaction_state, errors */
        if (!(names[n++] = vtev__strdup(md->topics[i].topic))) {
            vtev_admin_list_free(names, n);
            rd_kafka_metadata_destroy(md);
            return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
    }
    rd_kafka_metadata_destroy(md);
    qsort(names, n, sizeof(*names), cmp_str);
    *namesp = names;
    *cntp = n;
    return VTEV_ERR_OK;
}

void vtev_admin_list_free(char **names, size_t cnt) {
    size_t i;
    if (!names)
        return;
    for (i = 0; i < cnt; i++)
        free(names[i]);
    free(names);
}

vtev_err_t vtev_admin_describe_topic(vtev_admin_t *a, const char *topic, vtev_topic_desc_t **descp,
                                     int timeout_ms, char *errstr, size_t errstr_size) {
    const rd_kafka_metadata_t *md;
    const rd_kafka_metadata_topic_t *t;
    vtev_topic_desc_t *d;
    topic_cfg_t cfg;
    vtev_err_t err;
    int i;
    if (!a || !topic || !descp)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_admin_describe_topic: NULL argument");
    if ((err = get_metadata(a, &md, timeout_ms, errstr, errstr_size)))
        return err;
    if (!(t = md_topic(md, topic))) {
        rd_kafka_metadata_destroy(md);
        return vtev__fail(VTEV_ERR_NOT_FOUND, errstr, errstr_size, "%s: no such topic", topic);
    }
    d = calloc(1, sizeof(*d));
    if (!d || !(d->partitions = calloc((size_t)t->partition_cnt + 1, sizeof(*d->partitions)))) {
        free(d);
        rd_kafka_metadata_destroy(md);
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    snprintf(d->name, sizeof(d->name), "%s", topic);
    d->partition_cnt = t->partition_cnt;
    for (i = 0; i < t->partition_cnt; i++) {
        d->partitions[i].id = t->partitions[i].id;
        d->partitions[i].leader = t->partitions[i].leader;
        d->partitions[i].replica_cnt = t->partitions[i].replica_cnt;
        d->partitions[i].isr_cnt = t->partitions[i].isr_cnt;
    }
    rd_kafka_metadata_destroy(md);
    if ((err = describe_configs(a, topic, &cfg, timeout_ms, errstr, errstr_size))) {
        vtev_topic_desc_destroy(d);
        return err;
    }
    d->retention_ms = cfg.retention_ms;
    snprintf(d->compression, sizeof(d->compression), "%s", cfg.compression);
    snprintf(d->cleanup_policy, sizeof(d->cleanup_policy), "%s", cfg.cleanup_policy);
    d->min_insync_replicas = cfg.min_isr;
    *descp = d;
    return VTEV_ERR_OK;
}

void vtev_topic_desc_destroy(vtev_topic_desc_t *d) {
    if (!d)
        return;
    free(d->partitions);
    free(d);
}

vtev_err_t vtev_admin_group_lag(vtev_admin_t *a, const char *group, const char *const *topics,
                                size_t topic_cnt, vtev_group_lag_t **lagp, size_t *cntp,
                                int timeout_ms, char *errstr, size_t errstr_size) {
    const char *platform[VTEV_ARRAY_SIZE(platform_topics)];
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_t *crk = NULL;
    vtev_group_lag_t *out = NULL;
    vtev_err_t err;
    rd_kafka_resp_err_t e;
    size_t i;
    int j;

    if (!a || !group || !*group || !lagp || !cntp || (!topics && topic_cnt))
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "vtev_admin_group_lag: group and outputs are required");
    if (!topics) {
        for (i = 0; i < VTEV_ARRAY_SIZE(platform_topics); i++)
            platform[i] = vtev__conf_str(a->conf, platform_topics[i].key);
        topics = platform;
        topic_cnt = VTEV_ARRAY_SIZE(platform_topics);
    }
    if ((err = get_metadata(a, &md, timeout_ms, errstr, errstr_size)))
        return err;
    parts = rd_kafka_topic_partition_list_new(16);
    for (i = 0; i < topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = md_topic(md, topics[i]);
        if (!t) {
            err = vtev__fail(VTEV_ERR_NOT_FOUND, errstr, errstr_size, "%s: no such topic",
                             topics[i]);
            goto done;
        }
        for (j = 0; j < t->partition_cnt; j++)
            rd_kafka_topic_partition_list_add(parts, topics[i], t->partitions[j].id);
    }
    if (!(crk = new_rk(a->conf, RD_KAFKA_CONSUMER, group, errstr, errstr_size))) {
        err = VTEV_ERR_KAFKA;
        goto done;
    }
    if ((e = rd_kafka_committed(crk, parts, timeout_ms))) {
        err = vtev__fail(vtev__kafka_err(e), errstr, errstr_size, "%s: committed offsets: %s",
                         group, rd_kafka_err2str(e));
        goto done;
    }
    if (!(out = calloc((size_t)parts->cnt + 1, sizeof(*out)))) {
        err = vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "out of memory");
        goto done;
    }
    for (j = 0; j < parts->cnt; j++) {
        rd_kafka_topic_partition_t *p = &parts->elems[j];
        int64_t lo = -1, hi = -1;
        if ((e = rd_kafka_query_watermark_offsets(crk, p->topic, p->partition, &lo, &hi,
                                                  timeout_ms))) {
            err = vtev__fail(vtev__kafka_err(e), errstr, errstr_size, "%s [%d]: watermarks: %s",
                             p->topic, (int)p->partition, rd_kafka_err2str(e));
            goto done;
        }
        snprintf(out[j].topic, sizeof(out[j].topic), "%s", p->topic);
        out[j].partition = p->partition;
        out[j].committed = p->offset >= 0 ? p->offset : -1;
        out[j].low = lo;
        out[j].high = hi;
        out[j].lag = out[j].committed >= 0 ? hi - out[j].committed : hi - lo;
        if (out[j].lag < 0)
            out[j].lag = 0;
    }
    *lagp = out;
    *cntp = (size_t)parts->cnt;
    out = NULL;
    err = VTEV_ERR_OK;
done:
    free(out);
    if (crk)
        rd_kafka_destroy(crk);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    return err;
}
