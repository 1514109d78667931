/*
 * kafka_err.c - librdkafka's errors as the library's codes (rdkafka_int.h):
 * the one mapping, used by the producer (delivery reports, publish,
 * transactions), the dead-letter producer and the admin client.
 */
#include "rdkafka_int.h"

vtev_err_t vtev__kafka_err(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return VTEV_ERR_OK;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return VTEV_ERR_TIMED_OUT;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        return VTEV_ERR_PURGED;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return VTEV_ERR_MSG_TOO_LARGE;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return VTEV_ERR_QUEUE_FULL;
    case RD_KAFKA_RESP_ERR__FATAL:
        return VTEV_ERR_FATAL;
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__NOT_CONFIGURED:
        return VTEV_ERR_STATE;
    default:
        return VTEV_ERR_KAFKA;
    }
}

vtev_err_t vtev__kafka_error(const rd_kafka_error_t *error) {
    if (!error)
        return VTEV_ERR_OK;
    if (rd_kafka_error_is_fatal(error))
        return VTEV_ERR_FATAL;
    if (rd_kafka_error_txn_requires_abort(error))
        return VTEV_ERR_TXN_ABORTABLE;
    if (rd_kafka_error_is_retriable(error))
        return VTEV_ERR_TXN_RETRIABLE;
    return vtev__kafka_err(rd_kafka_error_code(error));
}
