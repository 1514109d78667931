/*
 * test_kafka_err.c - librdkafka's errors as the library's codes
 * (lib/kafka_err.c), the one mapping the producer, the dead-letter producer
 * and the admin client use.
 */
#include "rdkafka_int.h"
#include "testutil.h"

START_TEST(test_codes) {
    static const struct {
        rd_kafka_resp_err_t in;
        vtev_err_t out;
    } cases[] = {
        {RD_KAFKA_RESP_ERR_NO_ERROR, VTEV_ERR_OK},
        {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, VTEV_ERR_TIMED_OUT},
        {RD_KAFKA_RESP_ERR__TIMED_OUT, VTEV_ERR_TIMED_OUT},
        {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, VTEV_ERR_TIMED_OUT},
        {RD_KAFKA_RESP_ERR__PURGE_QUEUE, VTEV_ERR_PURGED},
        {RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, VTEV_ERR_PURGED},
        {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, VTEV_ERR_MSG_TOO_LARGE},
        {RD_KAFKA_RESP_ERR__QUEUE_FULL, VTEV_ERR_QUEUE_FULL},
        {RD_KAFKA_RESP_ERR__FATAL, VTEV_ERR_FATAL},
        {RD_KAFKA_RESP_ERR__STATE, VTEV_ERR_STATE},
        {RD_KAFKA_RESP_ERR__NOT_CONFIGURED, VTEV_ERR_STATE},
        {RD_KAFKA_RESP_ERR__TRANSPORT, VTEV_ERR_KAFKA},
        {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, VTEV_ERR_KAFKA},
        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, VTEV_ERR_KAFKA},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(vtev__kafka_err(cases[i].in) == cases[i].out, "%s: %s, want %s",
                      rd_kafka_err2name(cases[i].in), vtev_err2name(vtev__kafka_err(cases[i].in)),
                      vtev_err2name(cases[i].out));
}
END_TEST

/* An rd_kafka_error_t that is neither fatal, abortable nor retriable is
 * mapped by its code, as a response error is. */
START_TEST(test_error_objects) {
    static const rd_kafka_resp_err_t codes[] = {
        RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__NOT_CONFIGURED,
        RD_KAFKA_RESP_ERR__TRANSPORT};
    size_t i;
    ck_assert_int_eq(vtev__kafka_error(NULL), VTEV_ERR_OK);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        rd_kafka_error_t *e = rd_kafka_error_new(codes[i], "test %d", (int)i);
        ck_assert(!rd_kafka_error_is_fatal(e) && !rd_kafka_error_is_retriable(e) &&
                  !rd_kafka_error_txn_requires_abort(e));
        ck_assert_int_eq(vtev__kafka_error(e), vtev__kafka_err(codes[i]));
        rd_kafka_error_destroy(e);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("kafka_err");
    TCase *tc = tcase_create("kafka_err");
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_error_objects);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
