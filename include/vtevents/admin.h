/**
 * @file admin.h
 * @brief Topic administration with the platform's settings, and consumer
 *        group lag.
 *
 * @remark Thread safety: a ::vtev_admin_t may be used from several threads at
 *         once (each call is a self-contained librdkafka admin request).
 */
#ifndef VTEVENTS_ADMIN_H
#define VTEVENTS_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>
#include <vtevents/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque admin client. */
typedef struct vtev_admin_s vtev_admin_t;

/** Longest topic name Kafka accepts. */
#define VTEV_TOPIC_MAX 249

/** @brief What a topic should look like. */
typedef struct vtev_topic_spec_s {
    char name[VTEV_TOPIC_MAX + 1]; /**< Topic name. */
    int partitions;                /**< Partition count. */
    int64_t retention_ms;          /**< retention.ms */
    char compression[16];          /**< compression.type ("gzip", ...). */
} vtev_topic_spec_t;

/** @brief Outcome for one topic of vtev_admin_create_topics(). */
typedef enum vtev_topic_status_e {
    VTEV_TOPIC_CREATED = 0, /**< Did not exist; created as specified. */
    VTEV_TOPIC_EXISTS = 1,  /**< Exists with the specified settings; untouched. */
    VTEV_TOPIC_DIFFERS = 2, /**< Exists with other settings; untouched, detail says what differs. */
    VTEV_TOPIC_FAILED = 3   /**< Could not be created or checked; detail has the error. */
} vtev_topic_status_t;

/** @brief Result for one topic. */
typedef struct vtev_topic_result_s {
    char name[VTEV_TOPIC_MAX + 1]; /**< Topic name. */
    vtev_topic_status_t status;    /**< Outcome. */
    char detail[512];              /**< What differs, or the error; empty otherwise. */
} vtev_topic_result_t;

/** @brief One partition of a described topic. */
typedef struct vtev_partition_desc_s {
    int32_t id;            /**< Partition id. */
    int32_t leader;        /**< Leader broker id (-1: none). */
    int replica_cnt;       /**< Number of replicas. */
    int isr_cnt;           /**< Number of in-sync replicas. */
} vtev_partition_desc_t;

/** @brief A described topic (vtev_admin_describe_topic()). */
typedef struct vtev_topic_desc_s {
    char name[VTEV_TOPIC_MAX + 1];     /**< Topic name. */
    int partition_cnt;                 /**< Number of partitions. */
    vtev_partition_desc_t *partitions; /**< partition_cnt entries, owned by the desc. */
    int64_t retention_ms;              /**< retention.ms (-1: unlimited or unknown). */
    char compression[32];              /**< compression.type */
    char cleanup_policy[32];           /**< cleanup.policy */
    int min_insync_replicas;           /**< min.insync.replicas (0: unknown) */
} vtev_topic_desc_t;

/** @brief Lag of a consumer group on one partition. */
typedef struct vtev_group_lag_s {
    char topic[VTEV_TOPIC_MAX + 1]; /**< Topic. */
    int32_t partition;              /**< Partition. */
    int64_t committed;              /**< Committed offset, -1 when the group has none. */
    int64_t low;                    /**< Low watermark (first retained offset). */
    int64_t high;                   /**< High watermark (next offset to be written). */
    int64_t lag;                    /**< high - committed, or high - low without a commit. */
} vtev_group_lag_t;

/**
 * @brief The platform's topics as configured in @p conf: the three event
 *        topics (3, 5, 3 partitions; retention 7 days, 1 day, 7 days; gzip) and
 *        their dead-letter topics (`<topic><dlq.suffix>`: 1 partition,
 *        14 days, gzip).
 * @param conf  topic names and dlq suffix come from here (NULL: defaults);
 *              borrowed for the call.
 * @param specs receives up to @p max specs (caller-owned array).
 * @param max   size of @p specs.
 * With `consumer.retry.tiers` N > 0, each event topic that uses the tiers
 * (`consumer.retry.tier.topics`, unset: all three) is followed by its retry
 * topics `<topic>.retry.1` ... `.retry.N` (the topic's partitions and
 * retention).
 * @returns the number of platform topics (6, plus the retry topics), even
 *          when @p max is smaller.
 * @remark Thread safety: may be called from any thread; reads @p conf only
 *         (as vtev_conf_get()).
 * @since 0.1.0
 */
VTEV_EXPORT size_t vtev_platform_topic_specs(const vtev_conf_t *conf, vtev_topic_spec_t *specs,
                                             size_t max);

/**
 * @brief Creates an admin client (bootstrap.servers, kafka.* keys).
 * @param conf        the configuration; the client takes ownership of it on
 *                    success only (on failure the caller still owns it).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns the client (destroy with vtev_admin_destroy()) or NULL with errstr set.
 * @remark Thread safety: may be called from any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_admin_t *vtev_admin_new(vtev_conf_t *conf, char *errstr, size_t errstr_size);

/**
 * @brief Destroys @p admin and the configuration it owns; NULL is ignored.
 * @param admin the client, or NULL.
 * @remark Thread safety: must be the last call on @p admin, with no other
 *         call running.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_admin_destroy(vtev_admin_t *admin);

/**
 * @brief Creates the topics that do not exist, idempotently.
 *
 * Existing topics are never changed: their partition count, retention.ms and
 * compression.type are compared with the spec and differences are reported
 * as ::VTEV_TOPIC_DIFFERS.
 *
 * @param admin              the client.
 * @param specs              topics to create.
 * @param cnt                number of specs.
 * @param replication_factor replicas per partition; -1 for the broker's default.
 * @param results            receives @p cnt results, in the order of @p specs
 *                           (caller-owned array).
 * @param timeout_ms         bound for the whole operation.
 * @param errstr             receives the reason on failure (may be NULL).
 * @param errstr_size        size of @p errstr.
 * @returns ::VTEV_ERR_OK when no topic FAILED (DIFFERS is not a failure),
 *          ::VTEV_ERR_KAFKA or ::VTEV_ERR_TIMED_OUT otherwise (see results),
 *          ::VTEV_ERR_INVALID_ARG or ::VTEV_ERR_NOMEM.
 * @remark Thread-safe; blocks up to @p timeout_ms.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_admin_create_topics(vtev_admin_t *admin, const vtev_topic_spec_t *specs,
                                                size_t cnt, int replication_factor,
                                                vtev_topic_result_t *results, int timeout_ms,
                                                char *errstr, size_t errstr_size);

/**
 * @brief Lists the cluster's topics (internal topics excluded), sorted.
 * @param admin       the client.
 * @param namesp      receives an array of @p *cntp strings owned by the
 *                    caller, who frees it with vtev_admin_list_free().
 * @param cntp        receives the number of topics.
 * @param timeout_ms  bound for the metadata request.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_TIMED_OUT, ::VTEV_ERR_KAFKA,
 *          ::VTEV_ERR_NOMEM or ::VTEV_ERR_INVALID_ARG (NULL argument).
 * @remark Thread-safe; blocks up to @p timeout_ms.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_admin_list_topics(vtev_admin_t *admin, char ***namesp, size_t *cntp,
                                              int timeout_ms, char *errstr, size_t errstr_size);

/**
 * @brief Frees a list from vtev_admin_list_topics(); NULL is ignored.
 * @param names the array (ownership returns to the library), or NULL.
 * @param cnt   its number of strings (*cntp of vtev_admin_list_topics()).
 * @remark Thread-safe: any thread may free a list (each list once).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_admin_list_free(char **names, size_t cnt);

/**
 * @brief Describes one topic: partitions, leaders, replicas and key configs.
 * @param admin       the client.
 * @param topic       the topic name.
 * @param descp       receives the description, owned by the caller, who
 *                    frees it with vtev_topic_desc_destroy().
 * @param timeout_ms  bound for each of the requests (metadata, configs).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOT_FOUND (no such topic), ::VTEV_ERR_KAFKA,
 *          ::VTEV_ERR_TIMED_OUT, ::VTEV_ERR_NOMEM or ::VTEV_ERR_INVALID_ARG.
 * @remark Thread-safe; blocks up to a few times @p timeout_ms.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_admin_describe_topic(vtev_admin_t *admin, const char *topic,
                                                 vtev_topic_desc_t **descp, int timeout_ms,
                                                 char *errstr, size_t errstr_size);

/**
 * @brief Frees a description from vtev_admin_describe_topic(), its
 *        partitions included; NULL is ignored.
 * @param desc the description (ownership returns to the library), or NULL.
 * @remark Thread-safe: any thread may free a description (each once).
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_topic_desc_destroy(vtev_topic_desc_t *desc);

/**
 * @brief Lag of consumer group @p group on every partition of @p topics.
 *
 * Reads the group's committed offsets without joining the group.
 *
 * @param admin       the client.
 * @param group       the consumer group id (non-empty).
 * @param topics      topic names (borrowed for the call); NULL (with
 *                    @p topic_cnt 0) for the three platform topics of the
 *                    client's configuration.
 * @param topic_cnt   number of @p topics.
 * @param lagp        receives an array owned by the caller, who frees it
 *                    with vtev_free().
 * @param cntp        receives its length.
 * @param timeout_ms  bound for each request (metadata, committed offsets,
 *                    watermarks).
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOT_FOUND (a topic does not exist),
 *          ::VTEV_ERR_KAFKA, ::VTEV_ERR_TIMED_OUT, ::VTEV_ERR_NOMEM or
 *          ::VTEV_ERR_INVALID_ARG (NULL output, empty group).
 * @remark Thread-safe; blocks up to @p timeout_ms per request (one
 *         watermark query per partition).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_admin_group_lag(vtev_admin_t *admin, const char *group,
                                            const char *const *topics, size_t topic_cnt,
                                            vtev_group_lag_t **lagp, size_t *cntp,
                                            int timeout_ms, char *errstr, size_t errstr_size);

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_ADMIN_H */
