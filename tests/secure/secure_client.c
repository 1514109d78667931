/*
 * secure_client - the library over the secure stack (tests/secure/secure.sh), configured by
 * properties files only (vtev_conf_load_file(), as -F does).
 *
 *   secure_client roundtrip PRODUCER.properties CONSUMER.properties
 *       publishes a position as the producer's principal and reads it back in the
 *       consumer's group (group.id from the file or the environment)
 *   secure_client denied PROPERTIES
 *       publishes a result as a principal without WRITE on prediction-results: the delivery
 *       report must carry TOPIC_AUTHORIZATION_FAILED within 5 s
 *   secure_client badauth PROPERTIES
 *       publishes with a wrong password: the producer must fail fatally within 5 s, with an
 *       error naming kafka.sasl.password, and its report must say so
 *
 * The environment (vtev_conf_load_env()) comes after the file, as with the tools.
 * Prints what it saw on stdout, errors on stderr; exit 0 when it went as expected, 1 if not.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <vtevents/vtevents.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static vtev_conf_t *conf_from(const char *path) {
    char e[512];
    vtev_conf_t *conf = vtev_conf_new();
    if (!conf || vtev_conf_load_file(conf, path, e, sizeof(e)) ||
        vtev_conf_load_env(conf, e, sizeof(e)) || /* e.g. VTEV_GROUP_ID */
        vtev_conf_set(conf, "log.level", "3", e, sizeof(e))) {
        fprintf(stderr, "secure_client: %s: %s\n", path, e);
        vtev_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

typedef struct {
    atomic_int reports;
    atomic_int kafka_err;
    vtev_err_t err;
    char errstr[800];
    char fatal[800];
} seen_t;

static void on_dr(vtev_producer_t *p, const vtev_delivery_report_t *dr, void *opaque) {
    seen_t *s = opaque;
    (void)p;
    s->err = dr->err;
    snprintf(s->errstr, sizeof(s->errstr), "%s", dr->errstr);
    atomic_store(&s->kafka_err, dr->kafka_err);
    atomic_fetch_add(&s->reports, 1);
}

static void on_error(vtev_producer_t *p, vtev_err_t err, const char *reason, void *opaque) {
    seen_t *s = opaque;
    (void)p;
    if (err == VTEV_ERR_FATAL)
        snprintf(s->fatal, sizeof(s->fatal), "%s", reason);
}

/* Publishes one event (a position, or a result when @p result) and waits up to 5 s for its
 * report. Returns the producer's seconds to the report, or -1. */
static double publish_one(const char *props, bool result, seen_t *s, char *event_id,
                          size_t id_size) {
    char e[800];
    vtev_conf_t *conf = conf_from(props);
    vtev_producer_t *p;
    vtev_event_t ev;
    double t0, took = -1;
    if (!conf)
        return -1;
    if (!(p = vtev_producer_new(conf, e, sizeof(e)))) {
        fprintf(stderr, "secure_client: producer: %s\n", e);
        vtev_conf_destroy(conf);
        return -1;
    }
    vtev_producer_set_dr_cb(p, on_dr, s);
    vtev_producer_set_error_cb(p, on_error, s);
    if (result) {
        vtev_result_init(&ev.u.result);
        ev.type = VTEV_EVENT_RESULT;
        snprintf(ev.u.result.env.vessel_id, sizeof(ev.u.result.env.vessel_id), "lng-secure");
        snprintf(ev.u.result.request_id, sizeof(ev.u.result.request_id), "req-5ec0e001");
        snprintf(ev.u.result.data.prediction_id, sizeof(ev.u.result.data.prediction_id), "p-1");
        ev.u.result.data.terminal_id = 1;
        snprintf(ev.u.result.data.terminal_name, sizeof(ev.u.result.data.terminal_name), "Sabine");
        ev.u.result.data.confidence_score = 0.9;
        ev.u.result.data.distance_km = 10;
        ev.u.result.data.vessel_snapshot.lat = 29.7;
        ev.u.result.data.vessel_snapshot.lon = -93.9;
        snprintf(ev.u.result.data.vessel_snapshot.status, sizeof(ev.u.result.data.vessel_snapshot.status),
                 "underway");
    } else {
        vtev_position_init(&ev.u.position);
        ev.type = VTEV_EVENT_POSITION;
        snprintf(ev.u.position.env.vessel_id, sizeof(ev.u.position.env.vessel_id), "lng-secure");
        ev.u.position.data.lat = 29.7604;
        ev.u.position.data.lon = -95.3698;
        ev.u.position.data.speed = 12.5;
        ev.u.position.data.heading = 275;
        snprintf(ev.u.position.data.status, sizeof(ev.u.position.data.status), "underway");
    }
    snprintf(event_id, id_size, "%s", ev.u.env.event_id);
    t0 = now_s();
    if (vtev_producer_publish(p, &ev, NULL, e, sizeof(e)) != VTEV_ERR_OK) {
        fprintf(stderr, "secure_client: publish: %s\n", e);
    } else {
        while (atomic_load(&s->reports) == 0 && now_s() - t0 < 5.0)
            vtev_producer_flush(p, 100);
        if (atomic_load(&s->reports))
            took = now_s() - t0;
    }
    vtev_event_clear(&ev);
    vtev_producer_destroy(p);
    return took;
}

typedef struct {
    const char *want;
    bool found;
} find_t;

static vtev_verdict_t on_position(vtev_consumer_t *c, const vtev_event_t *ev,
                                  const vtev_msg_info_t *info, void *opaque) {
    find_t *f = opaque;
    (void)info;
    if (!strcmp(ev->u.env.event_id, f->want)) {
        f->found = true;
        vtev_consumer_stop(c);
    }
    return VTEV_VERDICT_OK;
}

static int roundtrip(const char *pprops, const char *cprops) {
    seen_t s = {0};
    char id[64], e[800];
    double took = publish_one(pprops, false, &s, id, sizeof(id));
    vtev_conf_t *conf;
    vtev_consumer_t *c;
    find_t f = {id, false};
    double t0;
    if (took < 0 || s.err != VTEV_ERR_OK) {
        fprintf(stderr, "secure_client: %s: not delivered: %s\n", pprops, s.errstr);
        return 1;
    }
    printf("delivered %s in %.3f s\n", id, took);
    if (!(conf = conf_from(cprops)))
        return 1;
    if (!(c = vtev_consumer_new(conf, e, sizeof(e)))) {
        fprintf(stderr, "secure_client: consumer: %s\n", e);
        vtev_conf_destroy(conf);
        return 1;
    }
    if (vtev_consumer_subscribe(c, VTEV_EVENT_POSITION, NULL, on_position, &f, e, sizeof(e))) {
        fprintf(stderr, "secure_client: subscribe: %s\n", e);
        vtev_consumer_destroy(c);
        return 1;
    }
    t0 = now_s();
    while (!f.found && now_s() - t0 < 30.0) {
        if (vtev_consumer_poll(c, 200, e, sizeof(e)) != VTEV_ERR_OK) {
            fprintf(stderr, "secure_client: poll: %s\n", e);
            break;
        }
    }
    vtev_consumer_destroy(c);
    if (!f.found) {
        fprintf(stderr, "secure_client: %s not read back through %s\n", id, cprops);
        return 1;
    }
    printf("read back %s in %.3f s\n", id, now_s() - t0);
    return 0;
}

static int denied(const char *props) {
    seen_t s = {0};
    char id[64];
    double took = publish_one(props, true, &s, id, sizeof(id));
    if (took < 0) {
        fprintf(stderr, "secure_client: no delivery report within 5 s\n");
        return 1;
    }
    printf("report after %.3f s: %s (%s)\n", took, s.errstr,
           rd_kafka_err2name((rd_kafka_resp_err_t)atomic_load(&s.kafka_err)));
    return atomic_load(&s.kafka_err) == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ? 0 : 1;
}

static int badauth(const char *props) {
    seen_t s = {0};
    char id[64];
    double took = publish_one(props, false, &s, id, sizeof(id));
    if (took < 0) {
        fprintf(stderr, "secure_client: no delivery report within 5 s\n");
        return 1;
    }
    printf("report after %.3f s: %s (%s)\nfatal error: %s\n", took, vtev_err2name(s.err),
           s.errstr, s.fatal);
    return s.err == VTEV_ERR_FATAL && strstr(s.errstr, "kafka.sasl.password") &&
                   strstr(s.fatal, "kafka.sasl.password")
               ? 0
               : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "roundtrip"))
        return roundtrip(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "denied"))
        return denied(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "badauth"))
        return badauth(argv[2]);
    fprintf(stderr, "usage: secure_client roundtrip PRODUCER.properties CONSUMER.properties\n"
                    "       secure_client denied|badauth PROPERTIES\n");
    return 2;
}
