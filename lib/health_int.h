/*
 * health_int.h - the pieces of health.h the handles share (health.c).
 * Never installed.
 */
#ifndef VTEV_HEALTH_INT_H
#define VTEV_HEALTH_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/health.h>

#include "conf_int.h"

struct vtev_registry_s;

/* Broker connections of one rd_kafka handle, from its statistics, and what
 * of them goes into the metrics (metrics.c: bytes, queue, round trips). */
typedef struct vtev__brokers_s {
    atomic_int known; /* brokers with a node id in the last statistics; -1: none yet */
    atomic_int up;    /* of those, in state UP */
    bool metrics;     /* metrics.enable */
    int64_t last_tx, last_rx; /* the handle's totals at the last statistics */
} vtev__brokers_t;

void vtev__brokers_init(vtev__brokers_t *b, bool metrics);
/* Reads a librdkafka statistics JSON document into b (and, with metrics,
 * into vtev_kafka_*: the bytes since the last one, the queue, the round
 * trips). Called on the handle's one thread that serves its statistics. */
void vtev__brokers_from_stats(vtev__brokers_t *b, const char *json, size_t len);
/* Sets statistics.interval.ms to health.stats.interval.ms unless
 * kafka.statistics.interval.ms was given. */
vtev_err_t vtev__health_stats_interval(const vtev_conf_t *conf, rd_kafka_conf_t *rkc,
                                       char *errstr, size_t errstr_size);

/* Appends a failed check to h. */
void vtev__health_add(vtev_health_t *h, const char *check, const char *handle, bool liveness,
                      const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* The "brokers" and "registry" checks. */
void vtev__health_brokers(const vtev__brokers_t *b, vtev_health_t *h, const char *handle);
void vtev__health_registry(struct vtev_registry_s *reg, vtev_health_t *h, const char *handle);

/* The process-wide list of live handles (vtev_health_process()). */
void vtev__health_track_consumer(vtev_consumer_t *c, bool add);
void vtev__health_track_producer(vtev_producer_t *p, bool add);

#endif
