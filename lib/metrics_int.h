/*
 * metrics_int.h - the process-wide metric store (metrics.c) as the library's
 * own code counts into it. Never installed.
 *
 * A series is looked up once (vtev__metric_series(), under the store's
 * mutex) and its pointer kept by the caller: a series lives until the process
 * exits.  The update functions are lock-free (atomics) and accept NULL (a
 * series that could not be allocated: the update is lost, nothing fails).
 */
#ifndef VTEV_METRICS_INT_H
#define VTEV_METRICS_INT_H

#include <stdint.h>

/* The metric families, in the order they are written. */
typedef enum {
    VTEV__M_PRODUCER_MESSAGES,  /* counter {topic, outcome} */
    VTEV__M_PRODUCER_DELIVERY,  /* histogram {topic} */
    VTEV__M_CONSUMER_MESSAGES,  /* counter {topic, outcome} */
    VTEV__M_CONSUMER_HANDLER,   /* histogram {topic} */
    VTEV__M_CONSUMER_LAG,       /* gauge {topic, partition} */
    VTEV__M_EVENT_AGE,          /* histogram {topic} */
    VTEV__M_DEAD_LETTERS,       /* counter {topic, reason} */
    VTEV__M_REGISTRY_REQUESTS,  /* counter {outcome} */
    VTEV__M_REGISTRY_CACHE,     /* counter {cache, result} */
    VTEV__M_KAFKA_TX_BYTES,     /* counter {client} (librdkafka statistics) */
    VTEV__M_KAFKA_RX_BYTES,     /* counter {client} */
    VTEV__M_KAFKA_QUEUE,        /* gauge {handle} */
    VTEV__M_KAFKA_RTT,          /* gauge {handle, broker} */
    VTEV__M__CNT
} vtev__metric_t;

typedef struct vtev__series_s vtev__series_t;

/* The series of family m with the given label values (as many as the family
 * has labels; the others are ignored and may be NULL; a NULL value counts as
 * ""), created on first use.  NULL only when out of memory. */
vtev__series_t *vtev__metric_series(vtev__metric_t m, const char *v1, const char *v2);

/* Counter: adds n. */
void vtev__counter_add(vtev__series_t *s, uint64_t n);

/* Gauge: sets the value. */
void vtev__gauge_set(vtev__series_t *s, double v);

/* Histogram: one observation of us microseconds (negative counts as 0). */
void vtev__hist_observe_us(vtev__series_t *s, int64_t us);

/* The series of one producer topic, shared by every producer of the process
 * (producer.c keeps the pointer in a per-producer cache). */
typedef struct vtev__ptopic_met_s {
    char *topic;
    vtev__series_t *queued, *delivered, *failed, *delivery;
} vtev__ptopic_met_t;

/* The series of one consumed topic, shared by every consumer of the process. */
typedef struct vtev__ctopic_met_s {
    char *topic;
    vtev__series_t *ok, *retry, *reject, *dead_letter, *handler, *age;
} vtev__ctopic_met_t;

/* The (interned, never freed) series of a topic; NULL when out of memory. */
vtev__ptopic_met_t *vtev__ptopic_met(const char *topic);
vtev__ctopic_met_t *vtev__ctopic_met(const char *topic);

#endif
