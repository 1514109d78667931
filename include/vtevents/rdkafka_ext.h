/**
 * @file rdkafka_ext.h
 * @brief A ::vtev_conf_t as a librdkafka configuration, for programs that
 *        create librdkafka handles of their own next to the library's.
 *
 * This header includes `<librdkafka/rdkafka.h>`; a program that uses it
 * links librdkafka as well (`pkg-config --libs rdkafka`).  The umbrella
 * `<vtevents/vtevents.h>` does not include it.
 *
 * @remark Thread safety: like vtev_conf_get(): @p conf may be read from
 *         several threads at once while nobody sets it.
 */
#ifndef VTEVENTS_RDKAFKA_EXT_H
#define VTEVENTS_RDKAFKA_EXT_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/export.h>
#include <vtevents/conf.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @name librdkafka configuration
 * @{
 */

/**
 * @brief A new librdkafka configuration with what the library's own handles
 *        of role @p type get from @p conf.
 *
 * In this order, later wins:
 * - for `RD_KAFKA_PRODUCER`, the library producer's defaults
 *   (`enable.idempotence=true`, `acks=all`, the platform topics'
 *   compression and the knobs of `producer.profile`; doc/producer.md);
 * - `bootstrap.servers`: for `mock://NAME` the address of the embedded mock
 *   cluster NAME of this process, which is created on first use, as the
 *   library's producers and consumers do;
 * - `client.id`;
 * - every `kafka.*` property that was set, without the prefix, with its real
 *   value: the security settings (`kafka.security.protocol`,
 *   `kafka.sasl.*`, `kafka.ssl.*`) included, although vtev_conf_dump()
 *   shows secrets as `[redacted]`;
 * - for `RD_KAFKA_CONSUMER`, `group.id` (when set) and `auto.offset.reset`
 *   from `consumer.offset.reset` (unless `kafka.auto.offset.reset` was set),
 *   as the library's consumer maps them.
 *
 * No callback and no opaque are set, and nothing of the library's consumer
 * offset management (it stores offsets itself); the caller adds what its
 * handle needs.
 *
 * @param conf        the configuration (not modified, not taken).
 * @param type        `RD_KAFKA_PRODUCER` or `RD_KAFKA_CONSUMER`: the role of
 *                    the handle the result is for.
 * @param errstr      receives a message naming the property on failure
 *                    (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns the configuration (caller owns it: rd_kafka_new() takes it, or
 *          rd_kafka_conf_destroy() frees it), or NULL when @p conf is NULL,
 *          @p type is another value, librdkafka refuses a value, the mock
 *          cluster cannot be created or memory runs out.
 * @remark Thread-safe: any thread, as long as no other thread changes
 *         @p conf meanwhile.
 * @since 0.2.0
 */
VTEV_EXPORT rd_kafka_conf_t *vtev_conf_to_rdkafka(const vtev_conf_t *conf, rd_kafka_type_t type,
                                                  char *errstr, size_t errstr_size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_RDKAFKA_EXT_H */
