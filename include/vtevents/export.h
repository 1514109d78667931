/**
 * @file export.h
 * @brief Symbol visibility for the libvtevents public API.
 *
 * The library is built with hidden visibility; only prototypes marked
 * VTEV_EXPORT are exported, and lib/vtevents.map versions them.
 */
#ifndef VTEVENTS_EXPORT_H
#define VTEVENTS_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Marks a public function: exported from libvtevents.so. */
#define VTEV_EXPORT __attribute__((visibility("default")))
/** Marks a function whose return value must not be ignored. */
#define VTEV_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define VTEV_EXPORT
#define VTEV_WARN_UNUSED
#endif

#endif /* VTEVENTS_EXPORT_H */
