/*
 * dlq_int.h - reading a dead-letter topic (dlq_read.c), shared by the
 * reader (<vtevents/dlq.h>) and the replay (dlq_replay.c). Never installed.
 */
#ifndef VTEV_DLQ_INT_H
#define VTEV_DLQ_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/dlq.h>

/* One partition of the topic: read from next up to end (exclusive). */
typedef struct vtev__dlq_part_s {
    int32_t id;
    int64_t end;
    bool done;
} vtev__dlq_part_t;

/* A snapshot read of one dead-letter topic: every partition from a start
 * (the low watermark, or with a group its committed offset) up to the high
 * watermark at open. */
typedef struct vtev__dlq_scan_s {
    rd_kafka_t *rk;
    vtev_conf_t *conf; /* a copy: librdkafka's log goes through it */
    char *topic;
    vtev__dlq_part_t *parts;
    int part_cnt;
    int remaining; /* partitions not done */
} vtev__dlq_scan_t;

/* A parsed dead letter and the memory its strings live in. */
typedef struct vtev__dlq_parsed_s {
    vtev_dead_letter_t dl;
    vtev_header_t *hdrs;
    size_t hdr_cap;
    char *strs;
    size_t strs_cap;
} vtev__dlq_parsed_t;

/* Opens the scan; group NULL: a private group that commits nothing, from
 * the low watermarks; else that group's committed offsets (the low
 * watermark where it has none or they are out of range). */
vtev_err_t vtev__dlq_scan_open(vtev__dlq_scan_t *s, const vtev_conf_t *conf, const char *topic,
                               const char *group, char *errstr, size_t errstr_size);
/* The next message (caller destroys it with rd_kafka_message_destroy()), or
 * *mp = NULL at the end: OK; TIMED_OUT when none came in timeout_ms. */
vtev_err_t vtev__dlq_scan_next(vtev__dlq_scan_t *s, rd_kafka_message_t **mp, int timeout_ms,
                               char *errstr, size_t errstr_size);
/* The partition entry of id, or NULL. */
vtev__dlq_part_t *vtev__dlq_scan_part(vtev__dlq_scan_t *s, int32_t id);
void vtev__dlq_scan_close(vtev__dlq_scan_t *s);

/* Fills p->dl from m (borrowing m's bytes: valid while m lives and until
 * the next parse into p). VTEV_ERR_NOMEM or OK. */
vtev_err_t vtev__dlq_parse(vtev__dlq_parsed_t *p, const rd_kafka_message_t *m);
void vtev__dlq_parsed_clear(vtev__dlq_parsed_t *p);

/* Copies a filter (NULL -> NULL with *okp true). */
vtev_dlq_filter_t *vtev__dlq_filter_dup(const vtev_dlq_filter_t *f, bool *okp);

#endif
