/*
 * mock_cluster.c - process-wide table of embedded librdkafka mock clusters.
 *
 * `bootstrap.servers=mock://NAME` gives every handle of the process the same
 * in-process cluster NAME. This table is the library's one piece of global
 * mutable state besides the mock:// registry table; a mutex guards it.
 */
#include "mock_cluster.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/admin.h>

#include "internal.h"

typedef struct mock_entry_s {
    char *name;
    rd_kafka_t *rk; /* hosts the cluster; never destroyed */
    rd_kafka_mock_cluster_t *mcluster;
    char *bootstraps;
    struct mock_entry_s *next;
} mock_entry_t;

static pthread_mutex_t mock_lock = PTHREAD_MUTEX_INITIALIZER;
static mock_entry_t *mock_list;

static mock_entry_t *find_locked(const char *name) {
    mock_entry_t *e;
    for (e = mock_list; e; e = e->next)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}

static mock_entry_t *create_locked(const char *name, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char rkerr[512];
    mock_entry_t *e = calloc(1, sizeof(*e));
    vtev_topic_spec_t specs[8];
    size_t i, n;
    if (!e || !conf)
        goto nomem;
    /* A plain producer handle whose only job is to host the cluster. */
    rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
    if (!(e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr)))) {
        vtev__seterr(errstr, errstr_size, "mock://%s: %s", name, rkerr);
        free(e);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    conf = NULL;
    if (!(e->mcluster = rd_kafka_mock_cluster_new(e->rk, 3))) {
        vtev__seterr(errstr, errstr_size, "mock://%s: could not create the mock cluster", name);
        rd_kafka_destroy(e->rk);
        free(e);
        return NULL;
    }
    /* the platform's topics (admin.c's table, default names) and their
     * dead-letter topics */
    n = vtev_platform_topic_specs(NULL, specs, VTEV_ARRAY_SIZE(specs));
    for (i = 0; i < n && i < VTEV_ARRAY_SIZE(specs); i++)
        rd_kafka_mock_topic_create(e->mcluster, specs[i].name, specs[i].partitions, 1);
    e->name = vtev__strdup(name);
    e->bootstraps = vtev__strdup(rd_kafka_mock_cluster_bootstraps(e->mcluster));
    if (!e->name || !e->bootstraps) {
        rd_kafka_mock_cluster_destroy(e->mcluster);
        rd_kafka_destroy(e->rk);
        free(e->name);
        free(e->bootstraps);
        free(e);
        vtev__seterr(errstr, errstr_size, "mock://%s: out of memory", name);
        return NULL;
    }
    e->next = mock_list;
    mock_list = e;
    return e;
nomem:
    free(e);
    if (conf)
        rd_kafka_conf_destroy(conf);
    vtev__seterr(errstr, errstr_size, "mock://%s: out of memory", name);
    return NULL;
}

const char *vtev__mock_cluster_bootstraps(const char *name, char *errstr, size_t errstr_size) {
    mock_entry_t *e;
    const char *r;
    pthread_mutex_lock(&mock_lock);
    if (!(e = find_locked(name)))
        e = create_locked(name, errstr, errstr_size);
    r = e ? e->bootstraps : NULL;
    pthread_mutex_unlock(&mock_lock);
    return r;
}

rd_kafka_mock_cluster_t *vtev__mock_cluster_get(const char *name) {
    mock_entry_t *e;
    pthread_mutex_lock(&mock_lock);
    e = find_locked(name);
    pthread_mutex_unlock(&mock_lock);
    return e ? e->mcluster : NULL;
}
