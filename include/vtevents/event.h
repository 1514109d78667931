/**
 * @file event.h
 * @brief The platform's three events as C types: defaults, validation,
 *        JSON form, Avro encoding and the Confluent wire framing.
 *
 * Strings are stored inline in fixed-size arrays (the limits below are the
 * validation limits: a longer string is refused, never truncated, by every
 * parser in the library).  The one heap member is the metadata map, owned by
 * the event and freed by vtev_event_clear() (or the per-type clear).
 *
 * @remark Thread safety: an event is plain data with no internal locking.
 *         Functions that take a const event may run concurrently on the same
 *         event.  vtev_schema_t objects are immutable after creation and may be
 *         shared between threads.
 */
#ifndef VTEVENTS_EVENT_H
#define VTEVENTS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/export.h>
#include <vtevents/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Limits (bytes, excluding the terminating NUL)
 * @{ */
#define VTEV_UUID_LEN 36          /**< Canonical UUID text: 8-4-4-4-12 hex digits. */
#define VTEV_ID_MAX 64            /**< vessel_id, request_id, prediction_id. */
#define VTEV_STATUS_MAX 32        /**< vessel status ("underway", "moored", ...). */
#define VTEV_NAME_MAX 128         /**< terminal_name. */
#define VTEV_TEXT_MAX 4096        /**< ai_reasoning. */
#define VTEV_META_KEY_MAX 64      /**< metadata key. */
#define VTEV_META_STRING_MAX 1024 /**< metadata string value. */
#define VTEV_META_MAX_ENTRIES 64  /**< metadata entries per event. */
/** @} */

/** @brief The three event types. */
typedef enum vtev_event_type_e {
    VTEV_EVENT_NONE = 0,      /**< Not an event type (uninitialised). */
    VTEV_EVENT_POSITION = 1,  /**< "vessel.position.updated" */
    VTEV_EVENT_REQUEST = 2,   /**< "prediction.analysis.requested" */
    VTEV_EVENT_RESULT = 3     /**< "prediction.analysis.completed" */
} vtev_event_type_t;

/** @brief Priority of a prediction request. */
typedef enum vtev_priority_e {
    VTEV_PRIORITY_LOW = 0,    /**< "low" */
    VTEV_PRIORITY_NORMAL = 1, /**< "normal" (default) */
    VTEV_PRIORITY_HIGH = 2    /**< "high" */
} vtev_priority_t;

/** @brief Type of a metadata value (the JSON types). */
typedef enum vtev_meta_type_e {
    VTEV_META_NULL = 0,   /**< JSON null */
    VTEV_META_STRING = 1, /**< string */
    VTEV_META_INT = 2,    /**< integer (int64) */
    VTEV_META_DOUBLE = 3, /**< floating point (finite) */
    VTEV_META_BOOL = 4    /**< true / false */
} vtev_meta_type_t;

/** @brief One metadata value, as seen through vtev_metadata_get(). */
typedef struct vtev_meta_value_s {
    vtev_meta_type_t type; /**< Which member below is meaningful. */
    const char *s;         /**< VTEV_META_STRING: borrowed, valid until the entry changes. */
    int64_t i;             /**< VTEV_META_INT */
    double d;              /**< VTEV_META_DOUBLE */
    bool b;                /**< VTEV_META_BOOL */
} vtev_meta_value_t;

/** @brief Opaque string-keyed metadata map (insertion-ordered). */
typedef struct vtev_metadata_s vtev_metadata_t;

/** @brief Fields every event carries. */
typedef struct vtev_envelope_s {
    char event_id[VTEV_UUID_LEN + 1];   /**< UUID v4 text, lower-case. */
    int64_t timestamp_us;               /**< UTC, microseconds since the Unix epoch. */
    char vessel_id[VTEV_ID_MAX + 1];    /**< Non-empty; the Kafka key. */
    vtev_metadata_t *metadata;          /**< Owned by the event; NULL means empty. */
} vtev_envelope_t;

/** @brief A vessel's kinematic state (position data and snapshots). */
typedef struct vtev_vessel_state_s {
    double lat;                        /**< Degrees, [-90, 90]. */
    double lon;                        /**< Degrees, [-180, 180]. */
    double speed;                      /**< Knots, >= 0. */
    double heading;                    /**< Degrees, [0, 360). */
    char status[VTEV_STATUS_MAX + 1];  /**< Non-empty: "underway", "moored", "at anchor", ... */
} vtev_vessel_state_t;

/** @brief `vessel.position.updated` */
typedef struct vtev_position_event_s {
    vtev_envelope_t env;       /**< Envelope. */
    vtev_vessel_state_t data;  /**< lat, lon, speed, heading, status. */
} vtev_position_event_t;

/** @brief Data of `prediction.analysis.requested`. */
typedef struct vtev_request_data_s {
    vtev_vessel_state_t vessel_snapshot; /**< The vessel when the request was made. */
    bool has_terminal_filter;            /**< Whether terminal_filter is set. */
    int64_t terminal_filter;             /**< Only this terminal id (optional). */
    vtev_priority_t priority;            /**< Default ::VTEV_PRIORITY_NORMAL. */
} vtev_request_data_t;

/** @brief `prediction.analysis.requested` */
typedef struct vtev_request_event_s {
    vtev_envelope_t env;                 /**< Envelope. */
    char request_id[VTEV_ID_MAX + 1];    /**< Default "req-" + 8 hex digits. */
    vtev_request_data_t data;            /**< Request data. */
} vtev_request_event_t;

/** @brief Component scores of a prediction. */
typedef struct vtev_scores_s {
    double proximity;     /**< [0, 1] */
    double speed;         /**< [0, 1] */
    double heading;       /**< [0, 1] */
    double rag_boost;     /**< [0, 0.3] */
    double ai_adjustment; /**< [-0.3, 0.3] */
} vtev_scores_t;

/** @brief Data of `prediction.analysis.completed`. */
typedef struct vtev_result_data_s {
    char prediction_id[VTEV_ID_MAX + 1];  /**< Non-empty. */
    int64_t terminal_id;                  /**< Terminal number. */
    char terminal_name[VTEV_NAME_MAX + 1];/**< Non-empty. */
    double confidence_score;              /**< [0, 1] */
    vtev_scores_t scores;                 /**< Component scores. */
    double distance_km;                   /**< >= 0 */
    bool has_eta_hours;                   /**< Whether eta_hours is set. */
    double eta_hours;                     /**< >= 0 (optional). */
    char ai_reasoning[VTEV_TEXT_MAX + 1]; /**< Free text (may be empty). */
    vtev_vessel_state_t vessel_snapshot;  /**< The vessel the prediction was made for. */
} vtev_result_data_t;

/** @brief `prediction.analysis.completed` */
typedef struct vtev_result_event_s {
    vtev_envelope_t env;                 /**< Envelope. */
    char request_id[VTEV_ID_MAX + 1];    /**< The request's id, for correlation. */
    vtev_result_data_t data;             /**< Result data. */
} vtev_result_event_t;

/** @brief Any of the three events, tagged by type. */
typedef struct vtev_event_s {
    vtev_event_type_t type;              /**< Which union member is valid. */
    union {
        vtev_envelope_t env;             /**< The envelope, common to all three. */
        vtev_position_event_t position;  /**< ::VTEV_EVENT_POSITION */
        vtev_request_event_t request;    /**< ::VTEV_EVENT_REQUEST */
        vtev_result_event_t result;      /**< ::VTEV_EVENT_RESULT */
    } u;                                 /**< The event. */
} vtev_event_t;

/* The envelope is the first member of every event, so u.env aliases it. */

/** @brief Opaque parsed Avro schema (see vtev_schema_new()). */
typedef struct vtev_schema_s vtev_schema_t;


/** @name Event types
 * @{ */
/**
 * @brief The event_type string of @p type: "vessel.position.updated", ...
 * @param type an event type.
 * @returns a static string (never freed), or NULL for ::VTEV_EVENT_NONE and
 *          values that are not an event type.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_event_type_name(vtev_event_type_t type);
/**
 * @brief The type for an event_type string.
 * @param name the event_type string, e.g. "vessel.position.updated"
 *             (borrowed for the call; NULL is accepted).
 * @returns the type, or ::VTEV_EVENT_NONE if @p name is unknown or NULL.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_event_type_t vtev_event_type_from_name(const char *name);
/**
 * @brief The JSON spelling of @p priority: "low", "normal", "high".
 * @param priority a priority.
 * @returns a static string (never freed), or NULL for an invalid value.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_priority_name(vtev_priority_t priority);
/** @} */

/** @name Init, copy, clear
 * Init zeroes the event and fills the defaults: a fresh UUID v4 event_id
 * (kernel random source), timestamp = now (UTC, microseconds), no metadata,
 * priority normal, request_id "req-" + 8 hex digits (requests).  Strings the
 * caller must provide (vessel_id, status, ...) are left empty, so an event
 * that was never filled in fails validation.
 * Init does not free what the event held: clear an event that owns metadata
 * before initialising it again.
 * Clear frees what the event owns (the metadata map) and accepts NULL;
 * a cleared event may be initialised again.
 * The event structs are caller-owned memory (stack, heap, embedded).
 * @{ */
/**
 * @brief Initialise a position event.
 * @param ev the event (caller-owned; any contents are overwritten).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL @p ev) or
 *          ::VTEV_ERR_IO (no randomness).
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_position_init(vtev_position_event_t *ev);
/**
 * @brief Initialise a prediction request.
 * @param ev the event (caller-owned; any contents are overwritten).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL @p ev) or
 *          ::VTEV_ERR_IO (no randomness).
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_request_init(vtev_request_event_t *ev);
/**
 * @brief Initialise a prediction result.
 * @param ev the event (caller-owned; any contents are overwritten).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL @p ev) or
 *          ::VTEV_ERR_IO (no randomness).
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_result_init(vtev_result_event_t *ev);
/**
 * @brief Initialise @p ev as an event of @p type.
 * @param ev   the event (caller-owned; any contents are overwritten).
 * @param type ::VTEV_EVENT_POSITION, ::VTEV_EVENT_REQUEST or ::VTEV_EVENT_RESULT.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG for a bad type or a NULL
 *          @p ev, or ::VTEV_ERR_IO (no randomness; @p ev then has type
 *          ::VTEV_EVENT_NONE).
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_init(vtev_event_t *ev, vtev_event_type_t type);
/**
 * @brief Free what a position event owns (its metadata map).
 * @param ev the event, or NULL.
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_position_clear(vtev_position_event_t *ev);
/**
 * @brief Free what a request event owns (its metadata map).
 * @param ev the event, or NULL.
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_request_clear(vtev_request_event_t *ev);
/**
 * @brief Free what a result event owns (its metadata map).
 * @param ev the event, or NULL.
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_result_clear(vtev_result_event_t *ev);
/**
 * @brief Free what @p ev owns (its metadata map); its type becomes
 *        ::VTEV_EVENT_NONE.
 * @param ev the event, or NULL.
 * @remark Thread safety: needs exclusive access to @p ev; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_event_clear(vtev_event_t *ev);
/**
 * @brief Deep copy (metadata included) into @p dst, which must not hold an
 *        event (init'ed-then-cleared or zeroed).
 * @param dst receives the copy, which the caller clears with
 *            vtev_event_clear(); it must not be @p src.
 * @param src the event to copy (borrowed for the call).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL argument, @p dst ==
 *          @p src, or @p src of no event type) or ::VTEV_ERR_NOMEM (@p dst
 *          then empty).
 * @remark Thread safety: needs exclusive access to @p dst; @p src may be
 *         read by other threads at the same time.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_copy(vtev_event_t *dst, const vtev_event_t *src);
/** @} */

/** @name Validation
 * Every constraint of the platform's event definitions: ranges, finite
 * numbers (NaN and infinities rejected), non-empty ids, UUID syntax, enum
 * values, string limits.  On failure errstr names the field path and the
 * value, e.g. "data.lat: 91 is outside [-90, 90]".
 *
 * The rules, in the order they are checked:
 * - event_id: 8-4-4-4-12 hex digits (either case);
 * - timestamp: in (0, 253402300799999999] µs (after the epoch, before year 10000);
 * - vessel_id, request_id, data.prediction_id (::VTEV_ID_MAX), status
 *   (::VTEV_STATUS_MAX), terminal_name (::VTEV_NAME_MAX): non-empty,
 *   NUL-terminated within the limit, valid UTF-8; ai_reasoning may be empty
 *   (::VTEV_TEXT_MAX);
 * - metadata: at most ::VTEV_META_MAX_ENTRIES entries, keys non-empty and at
 *   most ::VTEV_META_KEY_MAX bytes, strings at most ::VTEV_META_STRING_MAX
 *   bytes, all valid UTF-8, doubles finite;
 * - lat [-90, 90], lon [-180, 180], speed >= 0, heading [0, 360);
 * - priority one of the enum values;
 * - confidence_score and scores.proximity/speed/heading [0, 1],
 *   scores.rag_boost [0, 0.3], scores.ai_adjustment [-0.3, 0.3],
 *   distance_km >= 0, eta_hours >= 0 when present.
 * terminal_id and terminal_filter are any integer.
 * @remark Thread-safe (reads the event only).
 * @{ */
/**
 * @brief Validate a position event.
 * @param ev          the event (borrowed for the call).
 * @param errstr      receives "field.path: value and rule" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID or ::VTEV_ERR_INVALID_ARG (NULL @p ev).
 * @remark Thread-safe (reads the event only).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_position_validate(const vtev_position_event_t *ev, char *errstr, size_t errstr_size);
/**
 * @brief Validate a request event.
 * @param ev          the event (borrowed for the call).
 * @param errstr      receives "field.path: value and rule" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID or ::VTEV_ERR_INVALID_ARG (NULL @p ev).
 * @remark Thread-safe (reads the event only).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_request_validate(const vtev_request_event_t *ev, char *errstr, size_t errstr_size);
/**
 * @brief Validate a result event.
 * @param ev          the event (borrowed for the call).
 * @param errstr      receives "field.path: value and rule" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID or ::VTEV_ERR_INVALID_ARG (NULL @p ev).
 * @remark Thread-safe (reads the event only).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_result_validate(const vtev_result_event_t *ev, char *errstr, size_t errstr_size);
/**
 * @brief Validate any event, by its type.
 * @param ev          the event (borrowed for the call).
 * @param errstr      receives "field.path: value and rule" on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID (also for an event of no type)
 *          or ::VTEV_ERR_INVALID_ARG (NULL @p ev).
 * @remark Thread-safe (reads the event only).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_validate(const vtev_event_t *ev, char *errstr, size_t errstr_size);
/** @} */

/** @name Metadata
 * A map is plain data like the event that holds it: the setters and
 * vtev_metadata_remove() need exclusive access; the getters may run on
 * several threads at once while nobody modifies the map.
 * @{ */
/**
 * @brief A new empty map.
 * @returns the map, which the caller destroys with vtev_metadata_destroy()
 *          or hands to an envelope (vtev_envelope_t::metadata; the event's
 *          clear then frees it); NULL when out of memory.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_metadata_t *vtev_metadata_new(void);
/**
 * @brief Free a map and its entries; NULL is ignored.
 * @param md a map the caller owns (not one an envelope still points to), or NULL.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_metadata_destroy(vtev_metadata_t *md);
/**
 * @brief Deep copy of a map.
 * @param md the map (borrowed for the call), or NULL.
 * @returns the copy, which the caller destroys with vtev_metadata_destroy()
 *          (or hands to an envelope); NULL for a NULL @p md or when out of memory.
 * @remark Thread safety: reads @p md only (see the group's rules).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_metadata_t *vtev_metadata_dup(const vtev_metadata_t *md);
/**
 * @brief The envelope's map, created on first use.
 * @param env the envelope.
 * @returns the map, owned by the envelope (freed with the event's clear;
 *          do not destroy it); NULL for a NULL @p env or when out of memory.
 * @remark Thread safety: needs exclusive access to @p env (it may create the map).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_metadata_t *vtev_envelope_metadata(vtev_envelope_t *env);
/**
 * @brief Set @p key to a string. Replaces an existing entry of any type.
 * @param md    the map.
 * @param key   the key (copied): non-empty, at most ::VTEV_META_KEY_MAX bytes.
 * @param value the value (copied): at most ::VTEV_META_STRING_MAX bytes.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL map, empty or over-long
 *          key or value, ::VTEV_META_MAX_ENTRIES reached), ::VTEV_ERR_NOMEM.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_set_string(vtev_metadata_t *md, const char *key, const char *value);
/**
 * @brief Set @p key to an integer. Replaces an existing entry of any type.
 * @param md    the map.
 * @param key   the key (copied), as for vtev_metadata_set_string().
 * @param value the value.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL map, bad key,
 *          ::VTEV_META_MAX_ENTRIES reached), ::VTEV_ERR_NOMEM.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_set_int(vtev_metadata_t *md, const char *key, int64_t value);
/**
 * @brief Set @p key to a finite double. Replaces an existing entry of any type.
 * @param md    the map.
 * @param key   the key (copied), as for vtev_metadata_set_string().
 * @param value the value; NaN and infinities are refused.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NaN/inf, NULL map, bad key,
 *          ::VTEV_META_MAX_ENTRIES reached), ::VTEV_ERR_NOMEM.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_set_double(vtev_metadata_t *md, const char *key, double value);
/**
 * @brief Set @p key to a boolean. Replaces an existing entry of any type.
 * @param md    the map.
 * @param key   the key (copied), as for vtev_metadata_set_string().
 * @param value the value.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL map, bad key,
 *          ::VTEV_META_MAX_ENTRIES reached), ::VTEV_ERR_NOMEM.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_set_bool(vtev_metadata_t *md, const char *key, bool value);
/**
 * @brief Set @p key to null. Replaces an existing entry of any type.
 * @param md  the map.
 * @param key the key (copied), as for vtev_metadata_set_string().
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_INVALID_ARG (NULL map, bad key,
 *          ::VTEV_META_MAX_ENTRIES reached), ::VTEV_ERR_NOMEM.
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_set_null(vtev_metadata_t *md, const char *key);
/**
 * @brief Remove @p key; the later entries keep their order.
 * @param md  the map.
 * @param key the key.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOT_FOUND when absent, or
 *          ::VTEV_ERR_INVALID_ARG (NULL argument).
 * @remark Thread safety: needs exclusive access to @p md; any thread.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_metadata_remove(vtev_metadata_t *md, const char *key);
/**
 * @brief Look up @p key.
 * @param md  the map, or NULL (then nothing is found).
 * @param key the key.
 * @param out receives the value when present (may be NULL); a string in it
 *            is borrowed from the map, valid until the entry changes or the
 *            map is freed.
 * @returns true when present, else false.
 * @remark Thread safety: reads @p md only (see the group's rules).
 * @since 0.1.0
 */
VTEV_EXPORT bool vtev_metadata_get(const vtev_metadata_t *md, const char *key, vtev_meta_value_t *out);
/**
 * @brief Number of entries.
 * @param md the map, or NULL.
 * @returns the number of entries (0 for NULL).
 * @remark Thread safety: reads @p md only (see the group's rules).
 * @since 0.1.0
 */
VTEV_EXPORT size_t vtev_metadata_count(const vtev_metadata_t *md);
/**
 * @brief Entry @p idx in insertion order.
 * @param md  the map, or NULL.
 * @param idx the index, from 0 to vtev_metadata_count() - 1.
 * @param out receives the value (may be NULL); a string in it is borrowed
 *            as for vtev_metadata_get().
 * @returns the entry's key, borrowed from the map (valid until the entry
 *          changes or the map is freed); NULL past the end or for a NULL @p md.
 * @remark Thread safety: reads @p md only (see the group's rules).
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_metadata_entry(const vtev_metadata_t *md, size_t idx, vtev_meta_value_t *out);
/**
 * @brief The string value of metadata "correlation_id".
 * @param env the envelope, or NULL.
 * @returns the value, borrowed from the envelope's map (valid until the
 *          entry changes or the event is cleared), or NULL when there is no
 *          string "correlation_id".
 * @remark Thread safety: reads @p env only (see the group's rules).
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_envelope_correlation_id(const vtev_envelope_t *env);
/** @} */

/** @name JSON form
 * Exactly the platform's field names; timestamp as ISO-8601 UTC with
 * milliseconds or more ("2026-01-10T15:30:00.000Z").
 *
 * Output: one line with `", "` and `": "` separators (the layout of Python's
 * json.dumps), fields in schema order, doubles in their shortest exact form
 * and always with a fraction or exponent (275.0), metadata integers as
 * integers; timestamps with milliseconds, or microseconds when the value
 * has sub-millisecond precision, so a round trip is lossless.  A non-finite
 * double (only possible in an event that fails validation) is written as
 * NaN / Infinity / -Infinity like Python does, and bytes that are not UTF-8
 * as U+FFFD.
 *
 * Input: timestamps with any number of fractional digits (beyond 6 are
 * truncated), "Z", "+00:00" or any other "+HH:MM" / "+HHMM" offset
 * (converted to UTC), or no zone at all (taken as UTC); integers are
 * accepted where a double is expected; metadata keeps the JSON type of
 * each value (1 is an integer, 1.0 a double); duplicate keys are an error.
 * @remark Thread-safe.
 * @{ */
/** Flag for vtev_event_to_json(): indented output. */
#define VTEV_JSON_PRETTY 0x1
/**
 * @brief Serialise @p ev as JSON (one line unless ::VTEV_JSON_PRETTY).
 * @param ev    the event (borrowed for the call; not validated here).
 * @param flags 0 or ::VTEV_JSON_PRETTY.
 * @param jsonp receives a NUL-terminated string; caller frees with vtev_free().
 * @param lenp  receives its length (may be NULL).
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_NOMEM, or ::VTEV_ERR_INVALID_ARG (NULL
 *          argument, no event type, request priority out of range).
 * @remark Thread-safe (reads the event only).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_to_json(const vtev_event_t *ev, int flags, char **jsonp, size_t *lenp);
/**
 * @brief Parse one JSON event; the type comes from its "event_type".
 *
 * Malformed JSON is reported with line and column, wrong types, missing
 * required fields and unknown fields with the field path.  event_id,
 * timestamp, request_id, metadata and priority may be absent and then get
 * the defaults of vtev_*_init().  The result is not validated (call
 * vtev_event_validate()).
 *
 * @param ev          initialised by the call (any contents overwritten, not
 *                    freed); on success the caller clears it with
 *                    vtev_event_clear(); on failure it holds nothing.
 * @param json        the text (borrowed for the call; need not be
 *                    NUL-terminated).
 * @param len         its length in bytes.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_PARSE, or ::VTEV_ERR_INVALID_ARG (NULL
 *          @p ev, or NULL @p json with a non-zero @p len).
 * @remark Thread-safe; needs exclusive access to @p ev.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_from_json(vtev_event_t *ev, const char *json, size_t len, char *errstr, size_t errstr_size);
/** @} */

/** @name Avro schemas and encoding
 * @{ */
/**
 * @brief The library's compiled-in (reader) schema of @p type.
 * @param type an event type.
 * @returns a static schema that lives for the whole process (never
 *          destroyed; vtev_schema_ref() and vtev_schema_destroy() on it do
 *          nothing), or NULL for a bad type.
 * @remark Thread-safe (parsed once, on first use).
 * @since 0.1.0
 */
VTEV_EXPORT const vtev_schema_t *vtev_event_schema(vtev_event_type_t type);
/**
 * @brief Parse an Avro schema from JSON text.
 * @param json        the schema text (copied; need not be NUL-terminated).
 * @param len         its length in bytes.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns the schema with one reference, which the caller drops with
 *          vtev_schema_destroy(); NULL when @p json is NULL, is not a valid
 *          Avro schema, or memory ran out.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_schema_t *vtev_schema_new(const char *json, size_t len, char *errstr, size_t errstr_size);
/**
 * @brief Take another reference on @p schema.
 * @param schema the schema, or NULL.
 * @returns @p schema; the caller drops the new reference with
 *          vtev_schema_destroy().
 * @remark Thread-safe (atomic reference count).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_schema_t *vtev_schema_ref(vtev_schema_t *schema);
/**
 * @brief Drop a reference; frees the schema on the last one. NULL is ignored.
 * @param schema the schema (the caller's reference ends), or NULL.
 * @remark Thread-safe (atomic reference count): any thread may drop the
 *         last reference, once no other thread uses the schema.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_schema_destroy(vtev_schema_t *schema);
/**
 * @brief The schema's JSON text (as registered).
 * @param schema the schema, or NULL.
 * @returns NUL-terminated text borrowed from the schema, valid while the
 *          schema lives; NULL for NULL.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_schema_json(const vtev_schema_t *schema);
/**
 * @brief The full name ("namespace.Name") of a named schema, else its type name.
 * @param schema the schema, or NULL.
 * @returns text borrowed from the schema, valid while the schema lives;
 *          NULL for NULL.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT const char *vtev_schema_fullname(const vtev_schema_t *schema);
/** @brief The schema's Parsing Canonical Form (Avro specification): full
 *  names, only the attributes that matter to parsing, no whitespace.
 *  @param schema The schema. @returns Borrowed text valid while the schema
 *  lives, or NULL for NULL.  @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT const char *vtev_schema_canonical_form(const vtev_schema_t *schema);
/** @brief The CRC-64-AVRO (Rabin) fingerprint of vtev_schema_canonical_form():
 *  equal for two schemas with the same binary layout and names; compare it
 *  with vtev_type_t::fingerprint.  @param schema The schema.
 *  @returns The fingerprint, or 0 for NULL.  @remark Thread-safe. @since 0.2.0 */
VTEV_EXPORT uint64_t vtev_schema_fingerprint(const vtev_schema_t *schema);

/** Size of the Confluent wire-format header: magic byte 0 + 4-byte big-endian schema id. */
#define VTEV_FRAME_HEADER_SIZE 5
/**
 * @brief Write the 5-byte header for @p schema_id into @p buf.
 * @param buf       at least ::VTEV_FRAME_HEADER_SIZE writable bytes (caller-owned).
 * @param schema_id the schema id.
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT void vtev_frame_write_header(void *buf, int32_t schema_id);
/**
 * @brief Split a framed payload.
 * @param buf          the framed bytes (borrowed).
 * @param len          their length.
 * @param schema_idp   receives the schema id (may be NULL).
 * @param payloadp     receives a pointer to the Avro payload inside @p buf,
 *                     valid as long as @p buf is (may be NULL).
 * @param payload_lenp receives the payload's length (may be NULL).
 * @param errstr       receives the reason on failure (may be NULL).
 * @param errstr_size  size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_SHORT_BUFFER when @p len < 5,
 *          ::VTEV_ERR_BAD_MAGIC when the first byte is not 0, or
 *          ::VTEV_ERR_INVALID_ARG (NULL @p buf with a non-zero @p len).
 * @remark Thread-safe.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_frame_parse(const void *buf, size_t len, int32_t *schema_idp,
                                        const void **payloadp, size_t *payload_lenp,
                                        char *errstr, size_t errstr_size);
/**
 * @brief Avro-encode @p ev with its compiled-in schema.  The event is not
 *        validated here.
 * @param ev          the event (borrowed for the call).
 * @param schema_id   with a value >= 0 the output is framed (header + Avro),
 *                    else plain Avro.
 * @param bufp        receives a buffer the caller frees with vtev_free()
 *                    (malloc'd, so it may be handed to librdkafka with
 *                    RD_KAFKA_MSG_F_FREE).
 * @param lenp        receives its length.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_ENCODE, ::VTEV_ERR_NOMEM, or
 *          ::VTEV_ERR_INVALID_ARG (NULL argument, no event type).
 * @remark Thread-safe; each thread uses its own Avro values.
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_encode(const vtev_event_t *ev, int32_t schema_id,
                                         void **bufp, size_t *lenp,
                                         char *errstr, size_t errstr_size);
/**
 * @brief Decode plain Avro bytes written with @p writer into an event of
 *        @p type, resolving the writer schema into the compiled-in reader
 *        schema (schema evolution both ways).
 *
 * Resolution follows the Avro specification: enums resolve by symbol (a
 * symbol the reader lacks takes the reader's enum default), reader fields
 * the writer lacks get their defaults, writer-only fields are skipped,
 * fields may be re-ordered, int/long/float promote and string/bytes
 * convert, unions resolve on either side, and record, enum and fixed names
 * match by full name or a reader alias.  Every length, count and index is
 * checked against the input before anything is allocated for it; trailing
 * bytes are an error.  The default limits of doc/CONFIGURATION.md
 * (`avro.max.*`) apply (a consumer applies its configured ones).  The
 * event_type string in the data must be the name of @p type.  A string
 * longer than the struct's limit is an error (never truncated).  The result
 * is not validated.
 *
 * @param ev          initialised by the call (any contents overwritten, not
 *                    freed); on success the caller clears it with
 *                    vtev_event_clear(); on failure it holds nothing.
 * @param type        the event type to decode into.
 * @param writer      the schema the bytes were written with (borrowed for
 *                    the call); NULL means the compiled-in schema of @p type.
 * @param avro        the Avro bytes, unframed (borrowed for the call).
 * @param len         their length.
 * @param errstr      receives the reason on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns ::VTEV_ERR_OK, ::VTEV_ERR_DECODE, ::VTEV_ERR_SCHEMA_MISMATCH,
 *          ::VTEV_ERR_SCHEMA (a writer schema that is not valid Avro),
 *          ::VTEV_ERR_LIMIT (over an `avro.max.*` limit), ::VTEV_ERR_NOMEM,
 *          or ::VTEV_ERR_INVALID_ARG (NULL @p ev, bad @p type, NULL @p avro
 *          with a non-zero @p len).
 * @remark Thread-safe for concurrent calls, also with the same writer
 *         schema.  Each thread caches the set-up of up to 32 (writer,
 *         reader) pairs, failed set-ups included (a bad writer schema costs
 *         one attempt).
 * @since 0.1.0
 */
VTEV_EXPORT vtev_err_t vtev_event_decode(vtev_event_t *ev, vtev_event_type_t type,
                                         const vtev_schema_t *writer,
                                         const void *avro, size_t len,
                                         char *errstr, size_t errstr_size);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* VTEVENTS_EVENT_H */
