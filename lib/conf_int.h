/*
 * conf_int.h - internal access to vtev_conf_t. Never installed.
 */
#ifndef VTEV_CONF_INT_H
#define VTEV_CONF_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <vtevents/conf.h>

#include "internal.h"

/** Type of a library key. */
typedef enum { VTEV__PROP_STR, VTEV__PROP_INT, VTEV__PROP_BOOL, VTEV__PROP_ENUM } vtev__prop_type_t;

/** One library key of the property table (conf.c): what vtev_conf_set()
 *  checks, and what doc/CONFIGURATION.md says (doc/conf_doc.c writes it). */
typedef struct vtev__prop_s {
    const char *name;
    vtev__prop_type_t type;
    const char *def;     /**< default as a string, NULL = none */
    int64_t min, max;    /**< VTEV__PROP_INT: the accepted range */
    const char *enums;   /**< VTEV__PROP_ENUM: "|a|b|c|" */
    bool secret;         /**< redacted in dumps, scrubbed when freed */
    const char *section; /**< heading of doc/CONFIGURATION.md it is listed under */
    const char *desc;    /**< Markdown, one paragraph */
} vtev__prop_t;

/** The property table, in its order; *cntp receives its length. */
const vtev__prop_t *vtev__conf_props(size_t *cntp);

/** The value of a library key (set or default; conf NULL: the default);
 *  borrowed, valid until the key is set again or conf is destroyed. NULL for
 *  unknown keys or keys without default that were not set. */
const char *vtev__conf_str(const vtev_conf_t *conf, const char *name);
/** Integer value of a library key of type int (its default when unset). */
int64_t vtev__conf_int(const vtev_conf_t *conf, const char *name);
/** Boolean value of a library key of type bool (its default when unset). */
bool vtev__conf_bool(const vtev_conf_t *conf, const char *name);
/** True when the key was explicitly set (library or kafka.*). */
bool vtev__conf_is_set(const vtev_conf_t *conf, const char *name);

/** Applies bootstrap.servers (for mock://NAME: the embedded cluster's address,
 *  creating the cluster on first use), client.id and every kafka.* property to
 *  rk_conf, in that order, so kafka.bootstrap.servers wins over
 *  bootstrap.servers. The one place where mock://NAME becomes an address: every
 *  handle (producer, consumer, dead-letter producer, admin) gets its brokers
 *  here. On failure errstr names the key. */
vtev_err_t vtev__conf_apply_kafka(const vtev_conf_t *conf, rd_kafka_conf_t *rk_conf,
                                  char *errstr, size_t errstr_size);

/** Name of the embedded mock cluster when bootstrap.servers is "mock://NAME"
 *  (NAME may be empty: "default"), else NULL. Borrowed. */
const char *vtev__conf_mock_cluster(const vtev_conf_t *conf);

/** Whether subscriptions to topic use the non-blocking retry tiers:
 *  consumer.retry.tiers > 0 and topic is in consumer.retry.tier.topics (or
 *  that key is unset). False for conf NULL (the defaults). */
bool vtev__consumer_tiered_topic(const vtev_conf_t *conf, const char *topic);

/** Logs through the conf's log callback (or stderr by log.level). */
void vtev__log(const vtev_conf_t *conf, int level, const char *fac,
               const char *fmt, ...) VTEV_PRINTF(4, 5);

#endif
