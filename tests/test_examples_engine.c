/*
 * test_examples_engine.c - the example services' deterministic parts: the
 * prediction engine (haversine, bearing, scores, ranking, reasoning, ids),
 * the terminals file and the position simulator.  No network.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "testutil.h"

static ex_terminals_t g_tt;

static void load_terminals(void) {
    char errstr[512];
    ck_assert_msg(ex_terminals_load(&g_tt, EX_TEST_TERMINALS, errstr, sizeof(errstr)) == 0, "%s",
                  errstr);
}

static vtev_vessel_state_t state(double lat, double lon, double speed, double heading,
                                 const char *status) {
    vtev_vessel_state_t v;
    memset(&v, 0, sizeof(v));
    v.lat = lat;
    v.lon = lon;
    v.speed = speed;
    v.heading = heading;
    snprintf(v.status, sizeof(v.status), "%s", status);
    return v;
}

START_TEST(test_haversine_known_distances) {
    /* London (51.5074, -0.1278) - Paris (48.8566, 2.3522): 343.5 km (R = 6371 km) */
    ck_assert_double_eq_tol(ex_haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 343.56, 0.5);
    /* New York (40.7128, -74.0060) - Los Angeles (34.0522, -118.2437): 3935.7 km */
    ck_assert_double_eq_tol(ex_haversine_km(40.7128, -74.0060, 34.0522, -118.2437), 3935.7, 2.0);
    /* one degree of latitude, and of longitude on the equator: 111.195 km */
    ck_assert_double_eq_tol(ex_haversine_km(0, 0, 1, 0), 111.195, 0.01);
    ck_assert_double_eq_tol(ex_haversine_km(0, 0, 0, 1), 111.195, 0.01);
    /* antipodes: half the circumference */
    ck_assert_double_eq_tol(ex_haversine_km(0, 0, 0, 180), M_PI * EX_EARTH_RADIUS_KM, 0.01);
    ck_assert_double_eq_tol(ex_haversine_km(29.747, -93.871, 29.747, -93.871), 0.0, 1e-9);
    /* symmetric */
    ck_assert_double_eq_tol(ex_haversine_km(29.747, -93.871, 27.885, -97.255),
                            ex_haversine_km(27.885, -97.255, 29.747, -93.871), 1e-9);
}
END_TEST

START_TEST(test_bearing) {
    ck_assert_double_eq_tol(ex_bearing_deg(0, 0, 1, 0), 0.0, 1e-9);
    ck_assert_double_eq_tol(ex_bearing_deg(0, 0, 0, 1), 90.0, 1e-9);
    ck_assert_double_eq_tol(ex_bearing_deg(0, 0, -1, 0), 180.0, 1e-9);
    ck_assert_double_eq_tol(ex_bearing_deg(0, 0, 0, -1), 270.0, 1e-9);
    ck_assert_double_eq_tol(ex_angle_diff(350, 10), 20.0, 1e-9);
    ck_assert_double_eq_tol(ex_angle_diff(10, 350), 20.0, 1e-9);
    ck_assert_double_eq_tol(ex_angle_diff(0, 180), 180.0, 1e-9);
}
END_TEST

START_TEST(test_terminals_file) {
    size_t i;
    bool sabine = false, corpus = false;
    load_terminals();
    ck_assert_uint_ge(g_tt.cnt, 5);
    for (i = 0; i < g_tt.cnt; i++) {
        /* the Gulf of Mexico coast of the United States */
        ck_assert(g_tt.t[i].lat > 25.0 && g_tt.t[i].lat < 31.0);
        ck_assert(g_tt.t[i].lon > -98.0 && g_tt.t[i].lon < -82.0);
        if (strstr(g_tt.t[i].name, "Sabine Pass"))
            sabine = true;
        if (strstr(g_tt.t[i].name, "Corpus Christi"))
            corpus = true;
    }
    ck_assert(sabine && corpus);
}
END_TEST

START_TEST(test_terminals_bad_file) {
    char path[] = "/tmp/vtev-terminals-XXXXXX", errstr[512];
    ex_terminals_t tt;
    int fd = mkstemp(path);
    FILE *f;
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fputs("id,name,lat,lon\n1,Somewhere,95.0,-93.0\n", f);
    fclose(f);
    ck_assert_int_eq(ex_terminals_load(&tt, path, errstr, sizeof(errstr)), -1);
    ck_assert_str_contains(errstr, "lat");
    unlink(path);
    ck_assert_int_eq(ex_terminals_load(&tt, "/nonexistent/terminals.csv", errstr, sizeof(errstr)),
                     -1);
}
END_TEST

START_TEST(test_scores_in_range) {
    double lat, lon, speed, heading;
    load_terminals();
    for (lat = 25.0; lat <= 31.0; lat += 0.75)
        for (lon = -98.0; lon <= -87.0; lon += 1.1)
            for (speed = 0; speed <= 22; speed += 5.5)
                for (heading = 0; heading < 360; heading += 45) {
                    vtev_vessel_state_t v = state(lat, lon, speed, heading, "underway");
                    size_t i;
                    for (i = 0; i < g_tt.cnt; i++) {
                        ex_prediction_t p;
                        ex_predict_one(&v, &g_tt.t[i], &p);
                        ck_assert(p.proximity >= 0 && p.proximity <= 1);
                        ck_assert(p.speed >= 0 && p.speed <= 1);
                        ck_assert(p.heading >= 0 && p.heading <= 1);
                        ck_assert(p.confidence >= 0 && p.confidence <= 1);
                        ck_assert(p.distance_km >= 0);
                        ck_assert(!p.has_eta || p.eta_hours >= 0);
                    }
                }
}
END_TEST

START_TEST(test_scores_behave) {
    const ex_terminal_t *sabine = NULL;
    ex_prediction_t toward, away, near, far, slow_far;
    vtev_vessel_state_t v;
    double brg;
    size_t i;
    load_terminals();
    for (i = 0; i < g_tt.cnt; i++)
        if (strstr(g_tt.t[i].name, "Sabine Pass"))
            sabine = &g_tt.t[i];
    ck_assert_ptr_nonnull(sabine);
    /* 50 km south of Sabine Pass */
    brg = ex_bearing_deg(29.30, -93.87, sabine->lat, sabine->lon);
    v = state(29.30, -93.87, 15.0, brg, "underway");
    ex_predict_one(&v, sabine, &toward);
    v.heading = fmod(brg + 180.0, 360.0);
    ex_predict_one(&v, sabine, &away);
    ck_assert_double_eq_tol(toward.heading, 1.0, 1e-6);
    ck_assert_double_eq_tol(away.heading, 0.0, 1e-6);
    ck_assert(toward.confidence > away.confidence);
    ck_assert_double_eq_tol(toward.distance_km, 49.6, 0.5);
    /* ETA = distance / (knots * 1.852) */
    ck_assert(toward.has_eta);
    ck_assert_double_eq_tol(toward.eta_hours, toward.distance_km / (15.0 * 1.852), 1e-9);
    /* closer is more proximate */
    v = state(29.70, -93.87, 8.0, 0, "underway");
    ex_predict_one(&v, sabine, &near);
    v = state(28.00, -93.87, 8.0, 0, "underway");
    ex_predict_one(&v, sabine, &far);
    ck_assert(near.proximity > far.proximity);
    /* 8 kn fits the approach, not a passage 190 km out */
    ck_assert(near.speed > far.speed);
    /* stopped: no ETA, neutral heading */
    v = state(28.00, -93.87, 0.0, 0, "at anchor");
    ex_predict_one(&v, sabine, &slow_far);
    ck_assert(!slow_far.has_eta);
    ck_assert_double_eq_tol(slow_far.heading, 0.5, 1e-9);
}
END_TEST

START_TEST(test_best_three_and_filter) {
    ex_prediction_t p[3], one[3], again[3];
    vtev_vessel_state_t v;
    size_t n, i;
    load_terminals();
    v = state(29.20, -93.60, 14.0, 10.0, "underway");
    n = ex_predict(&g_tt, &v, false, 0, p, 3);
    ck_assert_uint_eq(n, 3);
    ck_assert(p[0].confidence >= p[1].confidence && p[1].confidence >= p[2].confidence);
    /* nobody left out scores higher than the third */
    for (i = 0; i < g_tt.cnt; i++) {
        ex_prediction_t q;
        ex_predict_one(&v, &g_tt.t[i], &q);
        if (q.terminal != p[0].terminal && q.terminal != p[1].terminal &&
            q.terminal != p[2].terminal)
            ck_assert(q.confidence <= p[2].confidence);
    }
    /* deterministic */
    n = ex_predict(&g_tt, &v, false, 0, again, 3);
    ck_assert_uint_eq(n, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_ptr_eq(again[i].terminal, p[i].terminal);
        ck_assert(again[i].confidence == p[i].confidence);
    }
    /* terminal_filter: only that terminal */
    n = ex_predict(&g_tt, &v, true, g_tt.t[6].id, one, 3);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(one[0].terminal->id, g_tt.t[6].id);
    ck_assert_uint_eq(ex_predict(&g_tt, &v, true, 999999, one, 3), 0);
}
END_TEST

START_TEST(test_reasoning_and_ids) {
    ex_prediction_t p;
    vtev_vessel_state_t v = state(29.30, -93.87, 15.0, 0.0, "underway");
    char text[VTEV_TEXT_MAX + 1], a[VTEV_ID_MAX + 1], b[VTEV_ID_MAX + 1], c[VTEV_ID_MAX + 1];
    load_terminals();
    ex_predict_one(&v, &g_tt.t[0], &p);
    ex_reasoning(&p, &v, text, sizeof(text));
    ck_assert_str_contains(text, g_tt.t[0].name);
    ck_assert_str_contains(text, "km away");
    ck_assert_str_contains(text, "rag_boost 0");
    ck_assert_str_contains(text, "ai_adjustment 0");
    ex_prediction_id("req-0000abcd", 3, a, sizeof(a));
    ex_prediction_id("req-0000abcd", 3, b, sizeof(b));
    ex_prediction_id("req-0000abce", 3, c, sizeof(c));
    ck_assert_str_eq(a, b); /* a redelivered request upserts the same rows */
    ck_assert_str_ne(a, c);
    ex_prediction_id("req-0000abcd", 4, c, sizeof(c));
    ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(test_percentile) {
    double v[100];
    int i;
    for (i = 0; i < 100; i++)
        v[i] = 100 - i; /* 100..1, unsorted */
    ck_assert_double_eq_tol(ex_percentile(v, 100, 50), 50.0, 1e-9);
    ck_assert_double_eq_tol(ex_percentile(v, 100, 99), 99.0, 1e-9);
    ck_assert_double_eq_tol(ex_percentile(v, 100, 100), 100.0, 1e-9);
}
END_TEST

/* Runs @p n fixes of a simulator with @p seed into @p out. */
static void track(uint64_t seed, int n, vtev_position_event_t *out) {
    ex_sim_opts_t o;
    ex_sim_t *s;
    int i;
    ex_sim_defaults(&o);
    o.seed = seed;
    ck_assert_ptr_nonnull(s = ex_sim_new(&g_tt, &o));
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(vtev_position_init(&out[i]), VTEV_ERR_OK);
        ex_sim_next(s, out[i].env.vessel_id, sizeof(out[i].env.vessel_id), &out[i].data);
    }
    ex_sim_destroy(s);
}

#define NFIX 3000

START_TEST(test_simulator_deterministic_and_valid) {
    static vtev_position_event_t a[NFIX], b[NFIX], c[NFIX];
    char errstr[512];
    int i, moored = 0, diff = 0;
    double max_step = 0;
    load_terminals();
    track(7, NFIX, a);
    track(7, NFIX, b);
    track(8, NFIX, c);
    for (i = 0; i < NFIX; i++) {
        ck_assert_str_eq(a[i].env.vessel_id, b[i].env.vessel_id);
        ck_assert(a[i].data.lat == b[i].data.lat && a[i].data.lon == b[i].data.lon);
        ck_assert(a[i].data.speed == b[i].data.speed && a[i].data.heading == b[i].data.heading);
        ck_assert_str_eq(a[i].data.status, b[i].data.status);
        if (a[i].data.lat != c[i].data.lat)
            diff++;
        ck_assert_msg(vtev_position_validate(&a[i], errstr, sizeof(errstr)) == VTEV_ERR_OK,
                      "fix %d: %s", i, errstr);
        /* in the Gulf of Mexico, LNG-carrier speeds */
        ck_assert(a[i].data.lat > 24.0 && a[i].data.lat < 31.0);
        ck_assert(a[i].data.lon > -98.5 && a[i].data.lon < -84.0);
        ck_assert(a[i].data.speed <= 21.0);
        if (!strcmp(a[i].data.status, "moored"))
            moored++;
        if (i >= 5 && !strcmp(a[i].env.vessel_id, a[i - 5].env.vessel_id)) {
            /* 120 s between two fixes of a vessel: at most ~0.7 km at 21 kn */
            double km = ex_haversine_km(a[i - 5].data.lat, a[i - 5].data.lon, a[i].data.lat,
                                        a[i].data.lon);
            if (km > max_step)
                max_step = km;
        }
    }
    ck_assert_int_gt(diff, NFIX / 2);     /* another seed, other tracks */
    ck_assert_int_gt(moored, 0);          /* 3000 fixes = 5 vessels x 10 h: some arrive */
    ck_assert_double_le(max_step, 1.5);   /* no jumps */
    for (i = 0; i < NFIX; i++) {
        vtev_position_clear(&a[i]);
        vtev_position_clear(&b[i]);
        vtev_position_clear(&c[i]);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("examples_engine");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, test_haversine_known_distances);
    tcase_add_test(tc, test_bearing);
    tcase_add_test(tc, test_terminals_file);
    tcase_add_test(tc, test_terminals_bad_file);
    tcase_add_test(tc, test_scores_in_range);
    tcase_add_test(tc, test_scores_behave);
    tcase_add_test(tc, test_best_three_and_filter);
    tcase_add_test(tc, test_reasoning_and_ids);
    tcase_add_test(tc, test_percentile);
    tcase_add_test(tc, test_simulator_deterministic_and_valid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return vtev_test_run(suite()); }
