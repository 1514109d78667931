/*
 * vt-demo - the prediction pipeline end to end:
 *
 *   position-simulator -> prediction-trigger -> prediction-worker -> prediction-persister
 *
 * Without a broker (no --real, no KAFKA_BOOTSTRAP_SERVERS) the four services
 * run as threads of this process on the embedded default: librdkafka's mock
 * cluster (bootstrap.servers=mock://demo) and an in-process registry
 * (schema.registry.url=mock://demo), persisting into SQLite in a temporary
 * file.  With a broker they run as separate processes (the programs next to
 * this one), on topics and groups unique to this run.
 *
 * Either way it prints the predictions as they reach the persister and ends
 * with a summary; the exit status is 0 only when every request got its
 * results, every result was persisted once and nothing was dead-lettered.
 */
#include "common.h"
#include "http.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct demo_s {
    bool real, quiet, exactly_once, keep_db, worker_restarted;
    double kill_worker_after;
    double kill_trigger_after;  /* SIGKILL the trigger too (0: no) */
    bool trigger_restarted;
    int slow_delivery_ms;       /* kafka.linger.ms of the trigger's and worker's producers */
    bool every_position;        /* the trigger requests for every position */
    int verbosity;
    int64_t count;
    double rate;
    int vessels;
    uint64_t seed;
    double timeout_s;
    const char *db;
    char db_tmp[256];
    char run_id[64];
    const char *map;            /* --map HOST:PORT: serve the live map (NULL: not) */
    bool live;                  /* --live: run until Ctrl-C */
    ex_cli_t cli;
} demo_t;

/* SIGHUP restarts the map's broadcaster (its pages reconnect). */
static volatile sig_atomic_t map_restart;
static void on_sighup(int sig) {
    (void)sig;
    map_restart = 1;
}

/* ------------------------------------------------------------------ the map */

typedef struct map_s {
    vtev_conf_t *base;
    const demo_t *d;
    ex_live_opts_t o;
    ex_stats_t st;
    atomic_int stop, port;
    pthread_t th;
    bool started;
} map_t;

static void *map_main(void *arg) {
    map_t *m = arg;
    vtev_conf_t *conf = vtev_conf_dup(m->base);
    m->st.rc = conf ? ex_live_run(conf, &m->o, &m->st, &m->stop) : 1;
    atomic_store(&m->st.done, 1);
    return NULL;
}

static void map_stop(map_t *m) {
    if (!m->started)
        return;
    atomic_store(&m->stop, 1);
    pthread_join(m->th, NULL);
    m->started = false;
}

/* Starts the broadcaster thread and waits until it listens; 0, or -1 (a
 * warning: the demo runs on without its map). */
static int map_start(map_t *m) {
    int64_t until = ex_now_us() + 10 * 1000000LL;
    memset(&m->st, 0, sizeof(m->st));
    atomic_store(&m->stop, 0);
    if (pthread_create(&m->th, NULL, map_main, m) != 0)
        return -1;
    m->started = true;
    while (!atomic_load(&m->st.ready) && !atomic_load(&m->st.done) && ex_now_us() < until)
        ex_sleep_ms(10);
    if (!atomic_load(&m->st.ready)) {
        map_stop(m);
        fprintf(stderr, "vt-demo: warning: the live map is not served (--map %s)\n", m->d->map);
        return -1;
    }
    return 0;
}

static void map_check_restart(map_t *m) {
    if (!map_restart || !m->started)
        return;
    map_restart = 0;
    fprintf(stderr, "vt-demo: SIGHUP: restarting the live map's broadcaster\n");
    map_stop(m);
    m->o.http = m->d->map; /* the same address again */
    if (map_start(m) == 0)
        fprintf(stderr, "vt-demo: the live map is back\n");
}

/* ------------------------------------------------------------------ threads */

enum { SIM, TRIG, WORK, PERS, NSVC };
static const char *const svc_names[NSVC] = {"position-simulator", "prediction-trigger",
                                            "prediction-worker", "prediction-persister"};

typedef struct svc_s {
    int which;
    vtev_conf_t *conf;
    const demo_t *d;
    ex_stats_t st;
    atomic_int stop;
    pthread_t th;
    bool started;
} svc_t;

static void *svc_main(void *arg) {
    svc_t *s = arg;
    const demo_t *d = s->d;
    switch (s->which) {
    case SIM: {
        ex_sim_opts_t o;
        ex_sim_defaults(&o);
        o.seed = d->seed;
        o.vessels = d->vessels;
        o.rate = d->rate;
        o.count = d->live ? 0 : d->count; /* --live: until Ctrl-C */
        s->st.rc = ex_sim_run(s->conf, &o, &s->st, &s->stop);
        break;
    }
    case TRIG: {
        ex_trigger_opts_t o;
        ex_trigger_defaults(&o);
        s->st.rc = ex_trigger_run(s->conf, &o, &s->st, &s->stop);
        break;
    }
    case WORK: {
        ex_worker_opts_t o = {0};
        o.exactly_once = d->exactly_once;
        o.max_results = 3;
        s->st.rc = ex_worker_run(s->conf, &o, &s->st, &s->stop);
        break;
    }
    case PERS: {
        ex_persister_opts_t o = {0};
        o.db = d->db;
        o.print = !d->quiet;
        s->st.rc = ex_persister_run(s->conf, &o, &s->st, &s->stop);
        break;
    }
    }
    s->conf = NULL;
    atomic_store(&s->st.done, 1);
    return NULL;
}

static uint64_t ld(atomic_uint_fast64_t *a) { return (uint64_t)atomic_load(a); }

/* Everything published has been handled downstream. */
static bool drained(svc_t *s, bool exactly_once) {
    uint64_t positions = ld(&s[SIM].st.delivered);
    uint64_t requests = ld(&s[TRIG].st.delivered);
    if (!atomic_load(&s[SIM].st.done))
        return false;
    if (ld(&s[TRIG].st.consumed) < positions)
        return false;
    if (ld(&s[TRIG].st.published) != requests + ld(&s[TRIG].st.failed))
        return false;
    if (ld(&s[WORK].st.consumed) < requests)
        return false;
    if (!exactly_once && ld(&s[PERS].st.consumed) < ld(&s[WORK].st.delivered))
        return false;
    if (!exactly_once && ld(&s[WORK].st.published) != ld(&s[WORK].st.delivered))
        return false;
    return true;
}

static int run_threads(demo_t *d, vtev_conf_t *base, ex_stats_t *out) {
    map_t map;
    char map_addr[300];
    svc_t s[NSVC];
    char errstr[512];
    int i, order[NSVC] = {PERS, WORK, TRIG, SIM}, rc = 0;
    int64_t deadline, stable_since = 0;

    memset(s, 0, sizeof(s));
    for (i = 0; i < NSVC; i++) {
        s[i].which = i;
        s[i].d = d;
        if (!(s[i].conf = vtev_conf_dup(base))) {
            fprintf(stderr, "vt-demo: out of memory\n");
            rc = 1;
            goto out;
        }
    }
    (void)errstr;
    memset(&map, 0, sizeof(map));
    if (d->map) {
        map.base = base;
        map.d = d;
        ex_live_defaults(&map.o);
        map.o.http = d->map;
        map.o.bound_port = &map.port;
        map.o.announce = false;
        if (map_start(&map) == 0) {
            char host[256];
            int port;
            /* a restart binds the port it got (also with port 0) */
            ex_http_parse(d->map, host, sizeof(host), &port, errstr, sizeof(errstr));
            snprintf(map_addr, sizeof(map_addr), "%s:%d", host, atomic_load(&map.port));
            d->map = map_addr;
            printf("vt-demo: the live map is at http://%s/ (SIGHUP restarts its broadcaster)\n",
                   map_addr);
            fflush(stdout);
        }
    }
    for (i = 0; i < NSVC; i++) {
        svc_t *v = &s[order[i]];
        int64_t until = ex_now_us() + 30 * 1000000LL;
        if (pthread_create(&v->th, NULL, svc_main, v) != 0) {
            fprintf(stderr, "vt-demo: cannot start %s\n", svc_names[v->which]);
            rc = 1;
            goto out;
        }
        v->started = true;
        while (!atomic_load(&v->st.ready) && !atomic_load(&v->st.done) && ex_now_us() < until)
            ex_sleep_ms(10);
        if (!atomic_load(&v->st.ready)) {
            fprintf(stderr, "vt-demo: %s did not start\n", svc_names[v->which]);
            rc = 1;
            goto out;
        }
        if (i + 1 < NSVC && order[i + 1] == SIM) {
            /* positions flow once the three groups have their partitions
             * (else the first latencies would measure the group joins) */
            int j;
            bool all;
            do {
                all = true;
                for (j = TRIG; j < NSVC; j++)
                    if (!atomic_load(&s[j].st.assigned))
                        all = false;
                if (!all)
                    ex_sleep_ms(20);
            } while (!all && ex_now_us() < until && !atomic_load(&ex_interrupted));
        }
    }
    if (d->live) {
        /* until Ctrl-C; then the simulator stops and the pipeline drains */
        printf("vt-demo: running until Ctrl-C\n");
        fflush(stdout);
        while (!atomic_load(&ex_interrupted) && !atomic_load(&s[SIM].st.done)) {
            map_check_restart(&map);
            ex_sleep_ms(50);
        }
        atomic_store(&s[SIM].stop, 1);
        while (!atomic_load(&s[SIM].st.done))
            ex_sleep_ms(10);
        d->count = (int64_t)ld(&s[SIM].st.published);
        atomic_store(&ex_interrupted, 0); /* a second Ctrl-C gives up draining */
    }
    deadline = ex_now_us() + (int64_t)(d->timeout_s * 1e6);
    while (!atomic_load(&ex_interrupted)) {
        map_check_restart(&map);
        bool failed = false;
        for (i = TRIG; i < NSVC; i++)
            if (atomic_load(&s[i].st.done))
                failed = true; /* a consumer service gave up */
        if (failed || (atomic_load(&s[SIM].st.done) && s[SIM].st.rc != 0)) {
            rc = 1;
            break;
        }
        if (drained(s, d->exactly_once)) {
            if (!stable_since)
                stable_since = ex_now_us();
            else if (ex_now_us() - stable_since > 500000)
                break;
        } else {
            stable_since = 0;
        }
        if (ex_now_us() > deadline) {
            fprintf(stderr, "vt-demo: the pipeline did not drain within %.0f s\n", d->timeout_s);
            rc = 1;
            break;
        }
        ex_sleep_ms(50);
    }
    if (atomic_load(&ex_interrupted))
        rc = 1;
out:
    for (i = 0; i < NSVC; i++)
        atomic_store(&s[i].stop, 1);
    map_stop(&map);
    if (map.st.rc != 0) {
        fprintf(stderr, "vt-demo: the live map's broadcaster failed\n");
        rc = 1;
    }
    for (i = NSVC - 1; i >= 0; i--) {
        svc_t *v = &s[order[i]];
        if (v->started) {
            pthread_join(v->th, NULL);
            if (v->st.rc != 0) {
                fprintf(stderr, "vt-demo: %s failed\n", svc_names[v->which]);
                rc = 1;
            }
        }
        vtev_conf_destroy(v->conf);
    }
    for (i = 0; i < NSVC; i++) {
        ex_stats_t *o = &out[i];
        atomic_store(&o->consumed, ld(&s[i].st.consumed));
        atomic_store(&o->published, ld(&s[i].st.published));
        atomic_store(&o->delivered, ld(&s[i].st.delivered));
        atomic_store(&o->failed, ld(&s[i].st.failed));
        atomic_store(&o->dead_letters, ld(&s[i].st.dead_letters));
        atomic_store(&o->rows, ld(&s[i].st.rows));
        atomic_store(&o->aborts, ld(&s[i].st.aborts));
        o->rc = s[i].st.rc;
    }
    return rc;
}

/* ------------------------------------------------------------------ processes */

typedef struct argv_s {
    char *a[96];
    int n;
    char store[96][512];
} argv_t;

static void arg(argv_t *v, const char *fmt, const char *s) {
    if (v->n >= 95)
        return;
    snprintf(v->store[v->n], sizeof(v->store[v->n]), fmt, s);
    v->a[v->n] = v->store[v->n];
    v->a[++v->n] = NULL;
}

static void common_args(argv_t *v, const demo_t *d, const char *group) {
    size_t i;
    char topic[256];
    if (d->cli.file)
        arg(v, "-F%s", d->cli.file);
    if (d->cli.brokers)
        arg(v, "-b%s", d->cli.brokers);
    if (d->cli.registry)
        arg(v, "-r%s", d->cli.registry);
    for (i = 0; i < d->cli.x_cnt; i++)
        arg(v, "-X%s", d->cli.x[i]);
    snprintf(topic, sizeof(topic), "topic.position=vessel-position-updates.%s", d->run_id);
    arg(v, "-X%s", topic);
    snprintf(topic, sizeof(topic), "topic.request=prediction-requests.%s", d->run_id);
    arg(v, "-X%s", topic);
    snprintf(topic, sizeof(topic), "topic.result=prediction-results.%s", d->run_id);
    arg(v, "-X%s", topic);
    if (group) {
        snprintf(topic, sizeof(topic), "group.id=%s.%s", group, d->run_id);
        arg(v, "-X%s", topic);
    }
    if (d->verbosity <= 0)
        arg(v, "%s", "-q");
}

static pid_t spawn(const char *dir, const char *prog, argv_t *v) {
    char path[PATH_MAX + 64];
    pid_t pid;
    int err;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, prog) >= sizeof(path)) {
        fprintf(stderr, "vt-demo: %s: path too long\n", dir);
        return -1;
    }
    v->a[0] = path;
    err = posix_spawn(&pid, path, NULL, NULL, v->a, environ);
    if (err) {
        fprintf(stderr, "vt-demo: cannot start %s: %s\n", path, strerror(err));
        return -1;
    }
    return pid;
}

static int wait_pid(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

/* Sum of the group's lag on @p topic; -1 when unknown. */
/* With @p txn_markers the topic is written in transactions: the commit
 * marker after a partition's last message stays behind the committed
 * offset, so one offset of lag per partition is no lag. */
static int64_t group_lag(vtev_admin_t *adm, const char *group, const char *topic,
                         bool txn_markers) {
    vtev_group_lag_t *lags = NULL;
    size_t cnt = 0, i;
    char errstr[512];
    const char *topics[1] = {topic};
    int64_t sum = 0;
    if (vtev_admin_group_lag(adm, group, topics, 1, &lags, &cnt, 10000, errstr, sizeof(errstr)) !=
        VTEV_ERR_OK)
        return -1;
    for (i = 0; i < cnt; i++) {
        if (lags[i].committed < 0 && lags[i].high > lags[i].low)
            sum += lags[i].high - lags[i].low;
        else if (lags[i].committed >= 0)
            sum += lags[i].lag - (txn_markers && lags[i].lag > 0 ? 1 : 0);
    }
    vtev_free(lags);
    return sum;
}

static int run_processes(demo_t *d, vtev_conf_t *base, ex_stats_t *out, uint64_t *dlq_msgs) {
    static const char *const groups[NSVC] = {NULL, "prediction-triggers", "prediction-workers",
                                             "prediction-db-writers"};
    char self[PATH_MAX], dir[PATH_MAX], stats[NSVC][300] = {{0}}, ready[NSVC][300] = {{0}}, errstr[512], topics[3][300],
        num[64];
    vtev_topic_spec_t specs[8];
    vtev_topic_result_t results[8];
    vtev_admin_t *adm = NULL;
    vtev_conf_t *aconf = NULL;
    pid_t pids[NSVC] = {0};
    static argv_t svc_argv[NSVC];
    ssize_t n;
    size_t nspec, i;
    int rc = 0, k, stable = 0;
    int64_t deadline;

    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
        fprintf(stderr, "vt-demo: /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    snprintf(dir, sizeof(dir), "%s", dirname(self));
    snprintf(topics[0], sizeof(topics[0]), "vessel-position-updates.%s", d->run_id);
    snprintf(topics[1], sizeof(topics[1]), "prediction-requests.%s", d->run_id);
    snprintf(topics[2], sizeof(topics[2]), "prediction-results.%s", d->run_id);

    /* the run's topics, with the platform's settings and their dead-letter topics */
    if (!(aconf = vtev_conf_dup(base)) ||
        ex_conf_set(aconf, "topic.position", topics[0], errstr, sizeof(errstr)) ||
        ex_conf_set(aconf, "topic.request", topics[1], errstr, sizeof(errstr)) ||
        ex_conf_set(aconf, "topic.result", topics[2], errstr, sizeof(errstr))) {
        fprintf(stderr, "vt-demo: %s\n", aconf ? errstr : "out of memory");
        vtev_conf_destroy(aconf);
        return 1;
    }
    nspec = vtev_platform_topic_specs(aconf, specs, 8);
    if (nspec > 8)
        nspec = 8;
    if (!(adm = vtev_admin_new(aconf, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vt-demo: admin: %s\n", errstr);
        vtev_conf_destroy(aconf);
        return 1;
    }
    aconf = NULL; /* owned by the admin client */
    if (vtev_admin_create_topics(adm, specs, nspec, -1, results, 30000, errstr,
                                 sizeof(errstr)) != VTEV_ERR_OK) {
        fprintf(stderr, "vt-demo: creating the topics: %s\n", errstr);
        for (i = 0; i < nspec; i++)
            if (results[i].status == VTEV_TOPIC_FAILED)
                fprintf(stderr, "vt-demo:   %s: %s\n", results[i].name, results[i].detail);
        rc = 1;
        goto out;
    }

    for (k = 0; k < NSVC; k++) {
        char p[300];
        snprintf(p, sizeof(p), "/tmp/vt-demo-%s-%d.stats", d->run_id, k);
        snprintf(stats[k], sizeof(stats[k]), "%s", p);
        unlink(stats[k]);
        snprintf(ready[k], sizeof(ready[k]), "/tmp/vt-demo-%s-%d.ready", d->run_id, k);
        unlink(ready[k]);
    }
    /* downstream first, so that the groups are joining while positions flow */
    for (k = PERS; k >= SIM; k--) {
        argv_t v = {{0}, 1, {{0}}};
        common_args(&v, d, groups[k]);
        arg(&v, "--stats-file=%s", stats[k]);
        if (k == PERS) {
            arg(&v, "--db=%s", d->db);
            if (!d->quiet)
                arg(&v, "%s", "--print");
        } else if (k == WORK) {
            if (d->exactly_once) {
                arg(&v, "%s", "--exactly-once");
                arg(&v, "--transactional-id=prediction-worker.%s", d->run_id);
            }
            /* a killed member must leave the group soon for its successor */
            if (d->kill_worker_after > 0)
                arg(&v, "--consumer-X=%s", "kafka.session.timeout.ms=6000");
        } else if (k == TRIG) {
            if (d->kill_trigger_after > 0)
                arg(&v, "--consumer-X=%s", "kafka.session.timeout.ms=6000");
            if (d->every_position)
                arg(&v, "%s", "--min-distance=0");
        } else if (k == SIM) {
            snprintf(num, sizeof(num), "%" PRId64, d->count);
            arg(&v, "--count=%s", num);
            snprintf(num, sizeof(num), "%g", d->rate);
            arg(&v, "--rate=%s", num);
            snprintf(num, sizeof(num), "%d", d->vessels);
            arg(&v, "--vessels=%s", num);
            snprintf(num, sizeof(num), "%" PRIu64, d->seed);
            arg(&v, "--seed=%s", num);
        }
        if (k != SIM)
            arg(&v, "--ready-file=%s", ready[k]);
        if ((k == TRIG || k == WORK) && d->slow_delivery_ms > 0) {
            snprintf(num, sizeof(num), "%d", d->slow_delivery_ms);
            arg(&v, "-Xkafka.linger.ms=%s", num);
        }
        if (k == SIM) {
            /* positions flow once the three groups have their partitions
             * (else the first latencies would measure the group joins) */
            int64_t until = ex_now_us() + 30 * 1000000LL;
            int j;
            bool all;
            do {
                all = true;
                for (j = TRIG; j < NSVC; j++)
                    if (access(ready[j], F_OK) != 0)
                        all = false;
                if (!all)
                    ex_sleep_ms(50);
            } while (!all && ex_now_us() < until && !atomic_load(&ex_interrupted));
        }
        if ((pids[k] = spawn(dir, svc_names[k], &v)) < 0) {
            rc = 1;
            goto out;
        }
        svc_argv[k] = v;
    }
    {
        /* chaos: SIGKILL the trigger and/or the worker mid-stream (between
         * publish and delivery with --slow-delivery), then start it again */
        int64_t t0 = ex_now_us();
        int order[2] = {TRIG, WORK}, j;
        double after[NSVC] = {0};
        after[TRIG] = d->kill_trigger_after;
        after[WORK] = d->kill_worker_after;
        if (after[WORK] > 0 && (after[TRIG] <= 0 || after[WORK] < after[TRIG])) {
            order[0] = WORK;
            order[1] = TRIG;
        }
        for (j = 0; j < 2; j++) {
            int64_t kill_at, before = -1, give_up;
            int status;
            k = order[j];
            if (after[k] <= 0)
                continue;
            kill_at = t0 + (int64_t)(after[k] * 1e6);
            while (ex_now_us() < kill_at && !atomic_load(&ex_interrupted) &&
                   waitpid(pids[SIM], &status, WNOHANG) == 0)
                ex_sleep_ms(20);
            /* mid-stream: at least one result persisted (slow machines) */
            give_up = ex_now_us() + (int64_t)(d->timeout_s * 1e6);
            while (!atomic_load(&ex_interrupted)) {
                ex_store_t *st = ex_store_open(d->db, NULL, errstr, sizeof(errstr));
                before = st ? ex_store_count(st, false, errstr, sizeof(errstr)) : -1;
                ex_store_close(st);
                if (before > 0 || ex_now_us() > give_up)
                    break;
                ex_sleep_ms(100);
            }
            kill(pids[k], SIGKILL);
            wait_pid(pids[k]);
            printf("vt-demo: killed %s (SIGKILL) with %" PRId64
                   " results persisted; restarting it\n",
                   svc_names[k], before);
            fflush(stdout);
            {
                int a;
                argv_t *v = &svc_argv[k];
                for (a = 0; a < v->n; a++) /* spawn() rewrites a[0]; the rest is stored */
                    v->a[a] = v->store[a];
                v->a[v->n] = NULL;
                if ((pids[k] = spawn(dir, svc_names[k], v)) < 0) {
                    rc = 1;
                    goto out;
                }
            }
            if (k == WORK)
                d->worker_restarted = true;
            else
                d->trigger_restarted = true;
        }
    }
    out[SIM].rc = wait_pid(pids[SIM]);
    pids[SIM] = 0;
    if (out[SIM].rc != 0) {
        fprintf(stderr, "vt-demo: position-simulator failed (%d)\n", out[SIM].rc);
        rc = 1;
        goto out;
    }
    /* drained: every group has committed everything of its input topic */
    deadline = ex_now_us() + (int64_t)(d->timeout_s * 1e6);
    while (!atomic_load(&ex_interrupted)) {
        char gname[300];
        int64_t total = 0, l;
        for (k = TRIG; k < NSVC; k++) {
            int status;
            if (waitpid(pids[k], &status, WNOHANG) == pids[k]) {
                fprintf(stderr, "vt-demo: %s exited early\n", svc_names[k]);
                pids[k] = 0;
                rc = 1;
                goto out;
            }
            snprintf(gname, sizeof(gname), "%s.%s", groups[k], d->run_id);
            l = group_lag(adm, gname, topics[k - 1], k == PERS && d->exactly_once);
            total += l < 0 ? 1 : l;
        }
        if (total == 0 && ++stable >= (d->exactly_once ? 6 : 3))
            break;
        if (total != 0)
            stable = 0;
        if (ex_now_us() > deadline) {
            fprintf(stderr, "vt-demo: the pipeline did not drain within %.0f s\n", d->timeout_s);
            rc = 1;
            break;
        }
        ex_sleep_ms(300);
    }
    if (atomic_load(&ex_interrupted))
        rc = 1;
out:
    for (k = TRIG; k < NSVC; k++)
        if (pids[k] > 0)
            kill(pids[k], SIGTERM);
    for (k = TRIG; k < NSVC; k++)
        if (pids[k] > 0) {
            out[k].rc = wait_pid(pids[k]);
            if (out[k].rc != 0) {
                fprintf(stderr, "vt-demo: %s exited with %d\n", svc_names[k], out[k].rc);
                rc = 1;
            }
        }
    if (pids[SIM] > 0) {
        kill(pids[SIM], SIGTERM);
        wait_pid(pids[SIM]);
    }
    for (k = 0; k < NSVC; k++) {
        static const char *const keys[] = {"consumed", "published", "delivered", "failed",
                                           "dead_letters", "rows", "aborts"};
        atomic_uint_fast64_t *f[] = {&out[k].consumed, &out[k].published, &out[k].delivered,
                                     &out[k].failed, &out[k].dead_letters, &out[k].rows,
                                     &out[k].aborts};
        size_t j;
        for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
            int64_t v = ex_stats_read(stats[k], keys[j]);
            atomic_store(f[j], v < 0 ? 0 : (uint64_t)v);
        }
        unlink(stats[k]);
        unlink(ready[k]);
    }
    /* what the dead-letter topics hold (a group without commits: lag = messages) */
    *dlq_msgs = 0;
    for (i = 0; i < nspec; i++) {
        int64_t l;
        if (!strcmp(specs[i].name, topics[0]) || !strcmp(specs[i].name, topics[1]) ||
            !strcmp(specs[i].name, topics[2]))
            continue; /* not a dead-letter topic */
        l = group_lag(adm, "vt-demo-dlq-probe-never-commits", specs[i].name, false);
        if (l > 0)
            *dlq_msgs += (uint64_t)l;
    }
    vtev_admin_destroy(adm);
    vtev_conf_destroy(aconf);
    return rc;
}

/* ------------------------------------------------------------------ main */

static const char usage[] =
    "usage: vt-demo [OPTIONS]\n"
    "Runs the prediction pipeline (simulator -> trigger -> worker -> persister), prints the\n"
    "predictions as they arrive and a summary. Without --real and without\n"
    "KAFKA_BOOTSTRAP_SERVERS everything runs in this process on the embedded mock cluster.\n\n"
    "  --real            separate processes on a real broker (-b, $KAFKA_BOOTSTRAP_SERVERS)\n"
    "  --count N         positions to publish (default 400)\n"
    "  --rate R          positions per second (default 40)\n"
    "  --vessels N       LNG carriers (default 5)\n"
    "  --seed N          track seed (default 42)\n"
    "  --db DB           SQLite file or postgresql://... (default: a temporary SQLite file)\n"
    "  --exactly-once    the worker runs in transactions\n"
    "  --timeout S       give up when the pipeline has not drained after S s (default 120)\n"
    "  --quiet-predictions  only the summary\n"
    "  --kill-worker-after S  (--real) SIGKILL the worker S s after the first position,\n"
    "                    then restart it: with --exactly-once nothing is lost or doubled\n"
    "  --kill-trigger-after S (--real) the same for the trigger\n"
    "  --slow-delivery MS  (--real) the trigger's and the worker's producers hold each\n"
    "                    output MS ms before sending it (kafka.linger.ms): a kill then\n"
    "                    lands between publish and delivery\n"
    "  --every-position  the trigger requests for every position (--min-distance 0)\n"
    "  --map HOST:PORT   also serve the live map there (live-broadcaster; PORT alone:\n"
    "                    127.0.0.1); SIGHUP restarts its broadcaster\n"
    "  --live            run until Ctrl-C (no --count limit), then drain and summarise;\n"
    "                    serves the map (--map, default 127.0.0.1:8090)\n" EX_COMMON_USAGE;

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"real", no_argument, NULL, 1000},        {"count", required_argument, NULL, 1001},
        {"rate", required_argument, NULL, 1002},  {"vessels", required_argument, NULL, 1003},
        {"seed", required_argument, NULL, 1004},  {"db", required_argument, NULL, 1005},
        {"exactly-once", no_argument, NULL, 1006}, {"timeout", required_argument, NULL, 1007},
        {"quiet-predictions", no_argument, NULL, 1008},
        {"kill-worker-after", required_argument, NULL, 1009}, {"help", no_argument, NULL, 'h'},
        {"kill-trigger-after", required_argument, NULL, 1010},
        {"slow-delivery", required_argument, NULL, 1011},
        {"every-position", no_argument, NULL, 1012},
        {"map", required_argument, NULL, 1013},
        {"live", no_argument, NULL, 1014},
        EX_HTTP_LONGOPT,
        {NULL, 0, NULL, 0}};
    ex_http_t *http = NULL;
    demo_t d;
    ex_stats_t st[NSVC];
    vtev_conf_t *base;
    ex_store_t *store = NULL;
    char errstr[512], *end;
    int c, r, rc, per_request;
    uint64_t dlq_msgs = 0, positions, requests, results, dead;
    int64_t rows = -1, distinct = -1, incomplete = -1;
    bool restarted;
    double *lat = NULL, p50 = 0, p99 = 0;
    long nlat = 0;
    ex_terminals_t tt;
    const char *env_bs = getenv("KAFKA_BOOTSTRAP_SERVERS");

    memset(&d, 0, sizeof(d));
    memset(st, 0, sizeof(st));
    d.count = 400;
    d.rate = 40;
    d.vessels = 5;
    d.seed = 42;
    d.timeout_s = 120;
    while ((c = getopt_long(argc, argv, EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((r = ex_cli_opt(&d.cli, c, optarg, "vt-demo", usage)) == 1)
            continue;
        if (r < 0)
            return 2;
        end = NULL;
        switch (c) {
        case 1000: d.real = true; break;
        case 1001: d.count = strtoll(optarg, &end, 10); break;
        case 1002: d.rate = strtod(optarg, &end); break;
        case 1003: d.vessels = (int)strtol(optarg, &end, 10); break;
        case 1004: d.seed = strtoull(optarg, &end, 10); break;
        case 1005: d.db = optarg; break;
        case 1006: d.exactly_once = true; break;
        case 1007: d.timeout_s = strtod(optarg, &end); break;
        case 1008: d.quiet = true; break;
        case 1009: d.kill_worker_after = strtod(optarg, &end); break;
        case 1010: d.kill_trigger_after = strtod(optarg, &end); break;
        case 1011: d.slow_delivery_ms = (int)strtol(optarg, &end, 10); break;
        case 1012: d.every_position = true; break;
        case 1013: d.map = optarg; break;
        case 1014: d.live = true; break;
        default: fputs(usage, stderr); return 2;
        }
        if (end && (*end || end == optarg)) {
            fprintf(stderr, "vt-demo: %s: not a number\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vt-demo: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if (d.count < 1 || d.rate < 0 || d.vessels < 1 || d.vessels > 16 || d.timeout_s <= 0) {
        fprintf(stderr, "vt-demo: --count >= 1, --rate >= 0, --vessels 1-16, --timeout > 0\n");
        return 2;
    }
    d.verbosity = d.cli.verbosity;
    if (d.live && !d.map)
        d.map = "127.0.0.1:8090";
    if (d.map && (d.real || (env_bs && *env_bs) || d.cli.brokers)) {
        fprintf(stderr, "vt-demo: --map and --live run on the embedded default only (without "
                        "--real); on a broker, run live-broadcaster beside the demo\n");
        return 2;
    }
    if (d.map) {
        char host[256];
        int port;
        if (ex_http_parse(d.map, host, sizeof(host), &port, errstr, sizeof(errstr))) {
            fprintf(stderr, "vt-demo: --map: %s\n", errstr);
            return 2;
        }
    }
    if (!d.real && ((env_bs && *env_bs) || d.cli.brokers))
        d.real = true;
    if (d.kill_worker_after < 0 || (d.kill_worker_after > 0 && !d.real) ||
        d.kill_trigger_after < 0 || (d.kill_trigger_after > 0 && !d.real)) {
        fprintf(stderr, "vt-demo: --kill-worker-after/--kill-trigger-after need --real and a "
                        "value > 0\n");
        return 2;
    }
    if (d.slow_delivery_ms < 0 || d.slow_delivery_ms > 60000 || (d.slow_delivery_ms && !d.real)) {
        fprintf(stderr, "vt-demo: --slow-delivery needs --real and 0 to 60000 ms\n");
        return 2;
    }
    /* a database of a kind this build left out (without --db: SQLite) */
    if (ex_store_check(d.db ? d.db : "sqlite:", errstr, sizeof(errstr))) {
        fprintf(stderr, "vt-demo: %s: %s\n",
                d.db ? "--db" : "the default database (a temporary SQLite file)", errstr);
        return 2;
    }
    snprintf(d.run_id, sizeof(d.run_id), "demo-%ld-%d", (long)(ex_now_us() / 1000000), (int)getpid());
    if (ex_terminals_load(&tt, ex_terminals_default_path(), errstr, sizeof(errstr))) {
        fprintf(stderr, "vt-demo: %s\n", errstr);
        return 1;
    }
    per_request = tt.cnt < 3 ? (int)tt.cnt : 3;

    /* without --real the demo chooses mock://demo itself (below) */
    d.cli.embedded_by_choice = !d.real;
    if (!(base = ex_cli_conf(&d.cli, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vt-demo: %s\n", errstr);
        return 2;
    }
    if (d.verbosity <= 0 && ex_conf_set(base, "log.level", "3", errstr, sizeof(errstr))) {
        fprintf(stderr, "vt-demo: %s\n", errstr);
        vtev_conf_destroy(base);
        return 2;
    }
    if (d.real) {
        char bs[512];
        ex_conf_str(base, "bootstrap.servers", bs, sizeof(bs));
        if (!bs[0] || !strncmp(bs, "mock://", 7)) {
            fprintf(stderr, "vt-demo: --real needs a broker: -b BROKERS or KAFKA_BOOTSTRAP_SERVERS "
                            "(./run demo --real starts the local stack)\n");
            vtev_conf_destroy(base);
            return 2;
        }
    } else {
        if (ex_conf_set(base, "bootstrap.servers", "mock://demo", errstr, sizeof(errstr)) ||
            ex_conf_set(base, "schema.registry.url", "mock://demo", errstr, sizeof(errstr))) {
            fprintf(stderr, "vt-demo: %s\n", errstr);
            vtev_conf_destroy(base);
            return 2;
        }
    }
    if (!d.db) {
        int fd;
        snprintf(d.db_tmp, sizeof(d.db_tmp), "/tmp/vt-demo-XXXXXX");
        if ((fd = mkstemp(d.db_tmp)) < 0) {
            fprintf(stderr, "vt-demo: temporary file: %s\n", strerror(errno));
            vtev_conf_destroy(base);
            return 1;
        }
        close(fd);
        d.db = d.db_tmp;
    }
    ex_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, on_sighup);

    {
        char what[64];
        if (d.live)
            snprintf(what, sizeof(what), "positions until Ctrl-C");
        else
            snprintf(what, sizeof(what), "%" PRId64 " positions", d.count);
        printf("vt-demo: %s of %d LNG carriers at %g/s, %s, %s%s\n", what, d.vessels, d.rate,
               d.real ? "separate processes on the real broker"
                      : "services as threads on the embedded mock cluster (mock://demo)",
               d.db_tmp[0] ? "SQLite in a temporary file" : d.db,
               d.exactly_once ? ", exactly-once worker" : "");
    }
    fflush(stdout);

    /* the mock cluster answers a fetch only after fetch.wait.max.ms (a real
     * broker answers as soon as data arrives) */
    if (!d.real)
        ex_consumer_fetch_wait_ms = "10";
    /* one endpoint for the pipeline: on the embedded cluster the services
     * are threads of this process; with --real only the demo's own handles */
    if (ex_http_begin(d.cli.http, "vt-demo", NULL, &http) != 0) {
        vtev_conf_destroy(base);
        return 1;
    }
    if (d.real)
        rc = run_processes(&d, base, st, &dlq_msgs);
    else
        rc = run_threads(&d, base, st);
    vtev_conf_destroy(base);

    if (!(store = ex_store_open(d.db, NULL, errstr, sizeof(errstr)))) {
        fprintf(stderr, "vt-demo: %s\n", errstr);
        rc = 1;
    } else {
        rows = ex_store_count(store, false, errstr, sizeof(errstr));
        distinct = ex_store_count(store, true, errstr, sizeof(errstr));
        incomplete = ex_store_incomplete(store, per_request, errstr, sizeof(errstr));
        if ((nlat = ex_store_latencies(store, &lat, errstr, sizeof(errstr))) < 0) {
            fprintf(stderr, "vt-demo: %s\n", errstr);
            nlat = 0;
            rc = 1;
        }
        ex_store_close(store);
    }
    if (nlat > 0) {
        p50 = ex_percentile(lat, (size_t)nlat, 50);
        p99 = ex_percentile(lat, (size_t)nlat, 99);
    }
    free(lat);

    positions = ld(&st[SIM].delivered);
    requests = ld(&st[TRIG].delivered);
    results = ld(&st[PERS].consumed);
    dead = ld(&st[TRIG].dead_letters) + ld(&st[WORK].dead_letters) + ld(&st[PERS].dead_letters);
    if (dlq_msgs > dead)
        dead = dlq_msgs;
    printf("\nsummary: positions %" PRIu64 ", requests %" PRIu64 ", results %" PRIu64
           ", rows persisted %" PRId64 ", dead letters %" PRIu64 "\n",
           positions, requests, results, rows, dead);
    printf("latency position -> result at the persister: p50 %.1f ms, p99 %.1f ms (%ld results)\n",
           p50, p99, nlat);
    if (d.exactly_once)
        printf("exactly-once: %" PRIu64 " aborted transactions\n", ld(&st[WORK].aborts));

    if (positions != (uint64_t)d.count) {
        printf("FAIL: %" PRIu64 " of %" PRId64 " positions were delivered\n", positions, d.count);
        rc = 1;
    }
    /* a restarted trigger's counters start again at 0: then the database's
     * requests are the reference (the caller checks them against the positions) */
    if (d.trigger_restarted && distinct > 0)
        requests = (uint64_t)distinct;
    if (requests == 0 || distinct != (int64_t)requests || incomplete != 0) {
        printf("FAIL: %" PRId64 " of %" PRIu64 " requests have results, %" PRId64
               " without exactly %d\n",
               distinct, requests, incomplete, per_request);
        rc = 1;
    }
    /* after a SIGKILLed trigger or worker (at-least-once), a request whose
     * results were delivered but whose input offset was not yet committed is
     * processed again: the same prediction ids (ex_prediction_id) reach the
     * persister twice and are stored once, so rows may be fewer than the
     * results consumed, never more.  Without a restart they must be equal. */
    restarted = !d.exactly_once && (d.worker_restarted || d.trigger_restarted);
    if (restarted && rows >= 0 && rows < (int64_t)results)
        printf("duplicates: %" PRIu64 " results delivered again after the restarts, stored once\n",
               results - (uint64_t)rows);
    if ((restarted ? rows > (int64_t)results : rows != (int64_t)results) ||
        (!d.exactly_once && !d.worker_restarted && ld(&st[WORK].delivered) != results)) {
        printf("FAIL: %" PRId64 " rows for %" PRIu64 " results (%" PRIu64 " published)\n", rows,
               results, ld(&st[WORK].delivered));
        rc = 1;
    }
    if (dead != 0) {
        printf("FAIL: %" PRIu64 " dead letters\n", dead);
        rc = 1;
    }
    if (rc == 0)
        printf("OK: every request got its %d results and every result was persisted once\n",
               per_request);
    fflush(stdout);
    if (d.db_tmp[0]) {
        char p[300];
        unlink(d.db_tmp);
        snprintf(p, sizeof(p), "%s-wal", d.db_tmp);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", d.db_tmp);
        unlink(p);
    }
    ex_http_stop(http);
    return rc ? 1 : 0;
}
