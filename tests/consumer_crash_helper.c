/*
 * consumer_crash_helper.c - a consumer process for the crash test: consumes
 * prediction requests from TOPIC in GROUP and appends each handled event_id
 * (one line, written with write(2) before the handler returns OK) to FILE.
 * SIGTERM/SIGINT stop it cleanly; the test kills it with SIGKILL.
 *
 * usage: consumer_crash_helper BOOTSTRAP REGISTRY TOPIC GROUP FILE [HANDLER_SLEEP_US]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vtevents/vtevents.h>
#include <vtevents/consumer.h>

static vtev_consumer_t *consumer;
static int out_fd = -1;
static useconds_t sleep_us;

static void on_signal(int sig) {
    (void)sig;
    vtev_consumer_stop(consumer);
}

static vtev_verdict_t handler(vtev_consumer_t *c, const vtev_event_t *ev,
                              const vtev_msg_info_t *info, void *opaque) {
    char line[64];
    int n;
    (void)c;
    (void)info;
    (void)opaque;
    if (sleep_us)
        usleep(sleep_us);
    n = snprintf(line, sizeof(line), "%s\n", ev->u.env.event_id);
    if (write(out_fd, line, (size_t)n) != n)
        return VTEV_VERDICT_RETRY;
    return VTEV_VERDICT_OK;
}

static int set(vtev_conf_t *conf, const char *k, const char *v) {
    char e[512];
    if (vtev_conf_set(conf, k, v, e, sizeof(e)) != VTEV_CONF_OK) {
        fprintf(stderr, "%s\n", e);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    vtev_conf_t *conf;
    char e[512];
    struct sigaction sa;
    vtev_err_t err;
    if (argc < 6) {
        fprintf(stderr, "usage: %s BOOTSTRAP REGISTRY TOPIC GROUP FILE [HANDLER_SLEEP_US]\n",
                argv[0]);
        return 2;
    }
    sleep_us = argc > 6 ? (useconds_t)atoi(argv[6]) : 0;
    if ((out_fd = open(argv[5], O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0) {
        perror(argv[5]);
        return 1;
    }
    conf = vtev_conf_new();
    if (!conf || set(conf, "bootstrap.servers", argv[1]) || set(conf, "schema.registry.url", argv[2]) ||
        set(conf, "group.id", argv[4]) || set(conf, "consumer.commit.interval.ms", "500") ||
        set(conf, "kafka.session.timeout.ms", "6000") ||
        set(conf, "kafka.heartbeat.interval.ms", "500") || set(conf, "log.level", "4"))
        return 2;
    if (!(consumer = vtev_consumer_new(conf, e, sizeof(e)))) {
        fprintf(stderr, "consumer: %s\n", e);
        vtev_conf_destroy(conf);
        return 1;
    }
    if (vtev_consumer_subscribe(consumer, VTEV_EVENT_REQUEST, argv[3], handler, NULL, e,
                                sizeof(e)) != VTEV_ERR_OK) {
        fprintf(stderr, "subscribe: %s\n", e);
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    err = vtev_consumer_run(consumer, e, sizeof(e));
    if (err)
        fprintf(stderr, "run: %s: %s\n", vtev_err2name(err), e);
    vtev_consumer_destroy(consumer);
    close(out_fd);
    return err ? 1 : 0;
}
