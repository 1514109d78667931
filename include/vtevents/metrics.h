/**
 * @file metrics.h
 * @brief The library's metrics, as Prometheus text exposition format 0.0.4.
 *
 * Producers, consumers and registry clients count into one process-wide
 * metric store: every handle of the process adds to the same series (two
 * producers publishing to one topic make one
 * `vtev_producer_messages_total{topic="...",outcome="queued"}` series, the
 * sum of both).  vtev_metrics_write() renders the whole store as text that a
 * Prometheus server scrapes; the application serves it where it likes (an
 * HTTP `/metrics` of its own).  doc/monitoring.md lists every metric, its
 * labels and the histogram buckets.
 *
 * @remark Thread safety: every function here is thread-safe.  The store is
 *         the library's documented global state: series are created under a
 *         mutex and updated with atomics; a series, once created, lives until
 *         the process exits (vtev_metrics_reset() zeroes values, it frees
 *         nothing), so handles keep their series without a lookup per
 *         message.
 */
#ifndef VTEVENTS_METRICS_H
#define VTEVENTS_METRICS_H

#include <stddef.h>
#include <vtevents/export.h>
#include <vtevents/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @name Exposition
 * @{
 */

/**
 * @brief Writes every metric of the process as Prometheus text exposition
 *        format 0.0.4.
 *
 * Each metric family has its `# HELP` and `# TYPE` lines, then its series
 * (all series of a name together), label values escaped (backslash, double
 * quote, newline).  A histogram has cumulative `_bucket{le="..."}` series
 * ending with `le="+Inf"`, then `_sum` and `_count` (equal to the `+Inf`
 * bucket).  Families without any series yet are written with their HELP and
 * TYPE lines only.  Serve it with the content type
 * `text/plain; version=0.0.4; charset=utf-8`.
 *
 * @param textp       receives a NUL-terminated string that the caller frees
 *                    with vtev_free(); NULL on failure.
 * @param lenp        receives the length of the text without the NUL (may be
 *                    NULL).
 * @param errstr      receives a message on failure (may be NULL).
 * @param errstr_size size of errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG when textp is NULL,
 *          ::VTEV_ERR_NOMEM when out of memory.
 * @remark Thread-safe: may be called from any thread, also while producers
 *         and consumers count; the values of one call are read while series
 *         creation is locked, each value atomically (a histogram's buckets
 *         are read one by one, `_count` is the sum of the buckets read).
 * @since 0.2.0
 */
VTEV_EXPORT vtev_err_t vtev_metrics_write(char **textp, size_t *lenp, char *errstr,
                                          size_t errstr_size);

/**
 * @brief Sets every value of every series to zero (counters, gauges,
 *        histogram buckets and sums).
 *
 * Meant for tests and for tools that measure one phase.  The series
 * themselves stay (with value 0), so handles that hold them go on counting
 * into them; resetting while other threads count may lose or keep the
 * updates that race with it.
 *
 * @remark Thread-safe.
 * @since 0.2.0
 */
VTEV_EXPORT void vtev_metrics_reset(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_METRICS_H */
