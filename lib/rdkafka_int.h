/*
 * rdkafka_int.h - what the library knows about librdkafka, in one place:
 * how its errors map to vtev_err_t (kafka_err.c) and the properties every
 * handle of a role gets (rdkafka_conf.c, which also holds the public
 * vtev_conf_to_rdkafka()). Never installed.
 */
#ifndef VTEV_RDKAFKA_INT_H
#define VTEV_RDKAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <vtevents/conf.h>
#include <vtevents/error.h>

/* ---- errors (kafka_err.c) ---- */

/** The library's code for a librdkafka error code: OK, TIMED_OUT (message,
 *  local or request time-outs), PURGED, MSG_TOO_LARGE, QUEUE_FULL, FATAL,
 *  STATE (wrong state, not configured), else KAFKA. */
vtev_err_t vtev__kafka_err(rd_kafka_resp_err_t err);

/** The library's code for an rd_kafka_error_t (the transactional calls):
 *  FATAL when it is fatal, TXN_ABORTABLE when the transaction must be
 *  aborted, TXN_RETRIABLE when the call may be retried, else
 *  vtev__kafka_err() of its code; OK for NULL. Does not destroy error. */
vtev_err_t vtev__kafka_error(const rd_kafka_error_t *error);

#endif
