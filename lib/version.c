/*
 * version.c - run-time version queries.
 */
#include <librdkafka/rdkafka.h>
#include <vtevents/version.h>

int vtev_version(void) {
    return VTEV_VERSION_NUM;
}

const char *vtev_version_str(void) {
    return VTEV_VERSION_STR;
}

const char *vtev_rdkafka_version_str(void) {
    return rd_kafka_version_str();
}
