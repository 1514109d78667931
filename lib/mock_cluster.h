/*
 * mock_cluster.h - the embedded default: librdkafka mock clusters by name.
 * Never installed.
 */
#ifndef VTEV_MOCK_CLUSTER_H
#define VTEV_MOCK_CLUSTER_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <vtevents/error.h>

/**
 * Returns the bootstrap servers of the process-wide mock cluster NAME,
 * creating it (3 brokers, the platform topics of vtev_platform_topic_specs()
 * with their default names and partition counts, dead-letter topics
 * included) on first use. The cluster lives until the process exits
 * (documented global state, guarded by a mutex). The returned string is valid
 * for the life of the process. NULL on failure with errstr set.
 */
const char *vtev__mock_cluster_bootstraps(const char *name, char *errstr, size_t errstr_size);

/** The rd_kafka_mock_cluster_t of NAME (for fault injection in tests), or NULL
 *  if it was never created. */
rd_kafka_mock_cluster_t *vtev__mock_cluster_get(const char *name);

#endif
