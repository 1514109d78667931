/*
 * producer_int.h - internal access to vtev_producer_t (the consumer's
 * consume-transform-produce path). Never installed.
 */
#ifndef VTEV_PRODUCER_INT_H
#define VTEV_PRODUCER_INT_H

#include <librdkafka/rdkafka.h>
#include <vtevents/producer.h>

/** The producer's librdkafka handle (borrowed, valid until the producer is
 *  destroyed), e.g. for rd_kafka_send_offsets_to_transaction(). */
rd_kafka_t *vtev__producer_rk(vtev_producer_t *p);

/** Maps a transactional rd_kafka_error_t to VTEV_ERR_FATAL / TXN_ABORTABLE /
 *  TXN_RETRIABLE / TIMED_OUT / STATE / KAFKA, writes "what: reason" to
 *  errstr, marks the producer fatal when it is, and destroys @p error.
 *  NULL error -> VTEV_ERR_OK. */
vtev_err_t vtev__producer_txn_error(vtev_producer_t *p, rd_kafka_error_t *error,
                                    const char *what, char *errstr, size_t errstr_size);

/** The serde the producer frames with (borrowed). */
struct vtev_serde_s *vtev__producer_serde(vtev_producer_t *p);

#endif
