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

/* The compression.type of the platform's topics (admin.c's table), and so
 * the codec of the library's producers: a batch in the topic's codec is
 * stored as it is, any other is recompressed by the broker. */
#define VTEV__PLATFORM_COMPRESSION "gzip"

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

/* ---- properties (rdkafka_conf.c) ---- */

/** enable.idempotence=true and acks=all: what every producer of the library
 *  has (vtev_producer_t, the consumer's dead-letter producer). On failure
 *  errstr starts with what. */
vtev_err_t vtev__rdkafka_safe_producer(rd_kafka_conf_t *rc, const char *what, char *errstr,
                                       size_t errstr_size);

/** The library producer's defaults: the safe properties, the platform's
 *  (socket.nagle.disable, compression.codec, partitioner), then those of
 *  producer.profile. Applied before vtev__conf_apply_kafka(), so explicit
 *  kafka.* keys win. */
vtev_err_t vtev__rdkafka_producer_defaults(const vtev_conf_t *conf, rd_kafka_conf_t *rc,
                                           char *errstr, size_t errstr_size);

/* The settings to check after librdkafka reported RD_KAFKA_RESP_ERR__AUTHENTICATION: for a
 * SASL security.protocol the user name and password, else the client certificate (doc/security.md).
 * A static string. */
const char *vtev__rdkafka_auth_hint(const vtev_conf_t *conf);

/** The consumer's mapping of library keys: group.id (when set) and
 *  auto.offset.reset from consumer.offset.reset unless kafka.auto.offset.reset
 *  was set. Applied after vtev__conf_apply_kafka() (the library's group.id
 *  wins over kafka.group.id). */
vtev_err_t vtev__rdkafka_consumer_props(const vtev_conf_t *conf, rd_kafka_conf_t *rc,
                                        char *errstr, size_t errstr_size);

#endif
