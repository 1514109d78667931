/*
 * test_consumer_crash.c - at-least-once across a crash: a consumer process
 * (consumer_crash_helper) is killed with SIGKILL mid-stream and restarted;
 * every event_id must be handled at least once. The number of duplicates
 * (events handled again because their offsets were not yet committed at the
 * kill) is printed.
 *
 * usage (meson passes it): test_consumer_crash PATH_OF_consumer_crash_helper
 */
#include <signal.h>
#include <sys/wait.h>

#include "consumer_testutil.h"
#include "testutil.h"

#define N_EVENTS 400

static const char *helper;
static const char *bootstraps;
static const char *registry;

static pid_t spawn(const char *topic, const char *group, const char *file, const char *sleep_us) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(helper, helper, bootstraps, registry, topic, group, file, sleep_us, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Reads the file's lines into rec (fresh); returns the number of lines. */
static size_t read_ids(const char *file, ctu_rec_t *rec) {
    FILE *fp = fopen(file, "r");
    char line[128];
    size_t n = 0;
    ctu_rec_init(rec);
    if (!fp)
        return 0;
    while (fgets(line, sizeof(line), fp)) {
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n')
            break; /* a partial last line */
        line[l - 1] = '\0';
        ctu_rec_add(rec, line, 1);
        n++;
    }
    fclose(fp);
    return n;
}

START_TEST(test_sigkill_and_restart) {
    char topic[200], group[220], file[256];
    char ids[N_EVENTS][VTEV_UUID_LEN + 1];
    ctu_pub_t *pub;
    vtev_conf_t *sc = vtev_conf_new();
    ctu_rec_t *rec = calloc(1, sizeof(*rec));
    pid_t pid;
    int status, i;
    int64_t end;
    size_t lines = 0, before_kill;

    snprintf(topic, sizeof(topic), "itc-crash-%d-%lld", (int)getpid(), (long long)time(NULL));
    snprintf(group, sizeof(group), "g-%s", topic);
    snprintf(file, sizeof(file), "/tmp/vtev-crash-%d.ids", (int)getpid());
    unlink(file);
    ctu_create_topic(bootstraps, topic, 5);
    ctu_set(sc, "schema.registry.url", registry);
    pub = ctu_pub_new(bootstraps, sc);
    for (i = 0; i < N_EVENTS; i++) {
        vtev_event_t ev;
        char vessel[32];
        snprintf(vessel, sizeof(vessel), "vessel-%d", i % 37);
        ctu_request(&ev, vessel);
        snprintf(ids[i], sizeof(ids[i]), "%s", ev.u.env.event_id);
        ctu_publish(pub, topic, &ev);
        vtev_event_clear(&ev);
    }

    /* first run: slow handler (5 ms), killed after about a third */
    pid = spawn(topic, group, file, "5000");
    end = ctu_now_ms() + 60000;
    while (ctu_now_ms() < end && (lines = read_ids(file, rec)) < N_EVENTS / 3)
        usleep(20000);
    ck_assert_msg(lines >= N_EVENTS / 3, "the first consumer handled only %zu events", lines);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    before_kill = read_ids(file, rec);
    ck_assert_uint_lt(ctu_rec_distinct(rec), N_EVENTS); /* really mid-stream */

    /* second run: must handle the rest (and some again) */
    pid = spawn(topic, group, file, "0");
    end = ctu_now_ms() + 120000;
    while (ctu_now_ms() < end) {
        read_ids(file, rec);
        if (ctu_rec_distinct(rec) >= N_EVENTS)
            break;
        usleep(100000);
    }
    usleep(500000);
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "restarted consumer failed");
    lines = read_ids(file, rec);
    for (i = 0; i < N_EVENTS; i++)
        ck_assert_msg(ctu_rec_count(rec, ids[i]) >= 1, "event %s was never handled", ids[i]);
    ck_assert_uint_eq(ctu_rec_distinct(rec), N_EVENTS);
    fprintf(stderr,
            "crash test: %d events, %zu handled before SIGKILL, %zu handlings in all, "
            "%zu duplicates\n",
            N_EVENTS, before_kill, lines, lines - (size_t)N_EVENTS);
    {
        const char *out = getenv("VTEV_CRASH_REPORT");
        FILE *fp = out ? fopen(out, "w") : NULL;
        if (fp) {
            fprintf(fp, "events=%d before_kill=%zu handlings=%zu duplicates=%zu\n", N_EVENTS,
                    before_kill, lines, lines - (size_t)N_EVENTS);
            fclose(fp);
        }
    }
    unlink(file);
    ctu_pub_destroy(pub);
    free(rec);
}
END_TEST

int main(int argc, char **argv) {
    Suite *s = suite_create("consumer_crash");
    TCase *tc = tcase_create("crash");
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_OF_consumer_crash_helper\n", argv[0]);
        return EXIT_FAILURE;
    }
    helper = argv[1];
    bootstraps = vtev_test_require_env("KAFKA_BOOTSTRAP_SERVERS");
    registry = vtev_test_require_env("SCHEMA_REGISTRY_URL");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_sigkill_and_restart);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
