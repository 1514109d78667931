/*
 * test_event.c - type names, init defaults, clear, copy and the metadata map.
 */
#include "event_fixtures.h"
#include "testutil.h"

#include <ctype.h>
#include <sys/time.h>

START_TEST(test_type_names) {
    ck_assert_str_eq(vtev_event_type_name(VTEV_EVENT_POSITION), "vessel.position.updated");
    ck_assert_str_eq(vtev_event_type_name(VTEV_EVENT_REQUEST), "prediction.analysis.requested");
    ck_assert_str_eq(vtev_event_type_name(VTEV_EVENT_RESULT), "prediction.analysis.completed");
    ck_assert_ptr_null(vtev_event_type_name(VTEV_EVENT_NONE));
    ck_assert_ptr_null(vtev_event_type_name((vtev_event_type_t)4));
    ck_assert_int_eq(vtev_event_type_from_name("prediction.analysis.completed"), VTEV_EVENT_RESULT);
    ck_assert_int_eq(vtev_event_type_from_name("vessel.position.updated"), VTEV_EVENT_POSITION);
    ck_assert_int_eq(vtev_event_type_from_name("Vessel.position.updated"), VTEV_EVENT_NONE);
    ck_assert_int_eq(vtev_event_type_from_name(NULL), VTEV_EVENT_NONE);
    ck_assert_str_eq(vtev_priority_name(VTEV_PRIORITY_LOW), "low");
    ck_assert_str_eq(vtev_priority_name(VTEV_PRIORITY_NORMAL), "normal");
    ck_assert_str_eq(vtev_priority_name(VTEV_PRIORITY_HIGH), "high");
    ck_assert_ptr_null(vtev_priority_name((vtev_priority_t)3));
}
END_TEST

static void check_uuid4(const char *u) {
    int i;
    ck_assert_uint_eq(strlen(u), 36);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_int_eq(u[i], '-');
        else
            ck_assert_msg(isxdigit((unsigned char)u[i]) && !isupper((unsigned char)u[i]), "%s", u);
    }
    ck_assert_int_eq(u[14], '4');
    ck_assert_ptr_nonnull(strchr("89ab", u[19]));
}

START_TEST(test_init_defaults) {
    vtev_position_event_t p;
    vtev_request_event_t r;
    vtev_result_event_t res;
    struct timeval tv;
    int64_t now;
    int i;
    gettimeofday(&tv, NULL);
    now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    ck_assert_int_eq(vtev_position_init(&p), VTEV_ERR_OK);
    check_uuid4(p.env.event_id);
    ck_assert_int_ge(p.env.timestamp_us, now - 1000000);
    ck_assert_int_le(p.env.timestamp_us, now + 5000000);
    ck_assert_ptr_null(p.env.metadata);
    ck_assert_str_eq(p.env.vessel_id, "");
    ck_assert_str_eq(p.data.status, "");
    ck_assert_int_eq(vtev_request_init(&r), VTEV_ERR_OK);
    check_uuid4(r.env.event_id);
    ck_assert_int_eq(r.data.priority, VTEV_PRIORITY_NORMAL);
    ck_assert_int_eq(r.data.has_terminal_filter, 0);
    ck_assert_uint_eq(strlen(r.request_id), 12);
    ck_assert_int_eq(strncmp(r.request_id, "req-", 4), 0);
    for (i = 4; i < 12; i++)
        ck_assert_ptr_nonnull(strchr("0123456789abcdef", r.request_id[i]));
    ck_assert_int_eq(vtev_result_init(&res), VTEV_ERR_OK);
    check_uuid4(res.env.event_id);
    ck_assert_str_eq(res.request_id, "");
    ck_assert_int_eq(res.data.has_eta_hours, 0);
    /* fresh ids each time */
    {
        vtev_request_event_t r2;
        ck_assert_int_eq(vtev_request_init(&r2), VTEV_ERR_OK);
        ck_assert_str_ne(r.env.event_id, r2.env.event_id);
        ck_assert_str_ne(r.request_id, r2.request_id);
    }
    ck_assert_int_eq(vtev_position_init(NULL), VTEV_ERR_INVALID_ARG);
    vtev_position_clear(&p);
    vtev_request_clear(&r);
    vtev_result_clear(&res);
    vtev_position_clear(NULL);
    vtev_request_clear(NULL);
    vtev_result_clear(NULL);
    vtev_event_clear(NULL);
}
END_TEST

START_TEST(test_event_init_type) {
    vtev_event_t ev;
    ck_assert_int_eq(vtev_event_init(&ev, VTEV_EVENT_REQUEST), VTEV_ERR_OK);
    ck_assert_int_eq(ev.type, VTEV_EVENT_REQUEST);
    ck_assert_int_eq(ev.u.request.data.priority, VTEV_PRIORITY_NORMAL);
    vtev_event_clear(&ev);
    ck_assert_int_eq(ev.type, VTEV_EVENT_NONE);
    ck_assert_int_eq(vtev_event_init(&ev, VTEV_EVENT_NONE), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_event_init(&ev, (vtev_event_type_t)42), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_event_init(NULL, VTEV_EVENT_POSITION), VTEV_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_copy_is_deep) {
    vtev_event_t a, b;
    vtev_meta_value_t v;
    fx_result(&a);
    ck_assert_int_eq(vtev_event_copy(&b, &a), VTEV_ERR_OK);
    fx_assert_event_eq(&a, &b);
    ck_assert_ptr_ne(a.u.env.metadata, b.u.env.metadata);
    /* changing the copy leaves the original alone */
    ck_assert_int_eq(vtev_metadata_set_string(b.u.env.metadata, "model_version", "v9"), VTEV_ERR_OK);
    ck_assert(vtev_metadata_get(a.u.env.metadata, "model_version", &v));
    ck_assert_str_eq(v.s, "v1.2");
    vtev_event_clear(&a);
    ck_assert(vtev_metadata_get(b.u.env.metadata, "score", &v));
    vtev_event_clear(&b);
    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(vtev_event_copy(&b, &a), VTEV_ERR_INVALID_ARG);
    ck_assert_int_eq(vtev_event_copy(NULL, &a), VTEV_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_metadata_map) {
    vtev_metadata_t *md = vtev_metadata_new(), *d;
    vtev_meta_value_t v;
    const char *k;
    vtev_envelope_t env;
    ck_assert_ptr_nonnull(md);
    ck_assert_uint_eq(vtev_metadata_count(md), 0);
    ck_assert_uint_eq(vtev_metadata_count(NULL), 0);
    ck_assert_int_eq(vtev_metadata_set_string(md, "b", "x"), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_int(md, "a", -7), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_double(md, "c", 1.5), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_bool(md, "d", true), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_null(md, "e"), VTEV_ERR_OK);
    ck_assert_uint_eq(vtev_metadata_count(md), 5);
    /* insertion order */
    k = vtev_metadata_entry(md, 0, &v);
    ck_assert_str_eq(k, "b");
    ck_assert_int_eq(v.type, VTEV_META_STRING);
    ck_assert_str_eq(v.s, "x");
    ck_assert_str_eq(vtev_metadata_entry(md, 1, &v), "a");
    ck_assert_int_eq(v.i, -7);
    ck_assert_str_eq(vtev_metadata_entry(md, 4, &v), "e");
    ck_assert_int_eq(v.type, VTEV_META_NULL);
    ck_assert_ptr_null(vtev_metadata_entry(md, 5, &v));
    /* replace keeps the position, changes the type */
    ck_assert_int_eq(vtev_metadata_set_double(md, "b", 2.25), VTEV_ERR_OK);
    ck_assert_str_eq(vtev_metadata_entry(md, 0, &v), "b");
    ck_assert_int_eq(v.type, VTEV_META_DOUBLE);
    ck_assert(v.d == 2.25);
    ck_assert(vtev_metadata_get(md, "d", &v));
    ck_assert_int_eq(v.type, VTEV_META_BOOL);
    ck_assert(v.b);
    ck_assert(!vtev_metadata_get(md, "zz", &v));
    ck_assert(!vtev_metadata_get(NULL, "a", &v));
    /* remove */
    ck_assert_int_eq(vtev_metadata_remove(md, "a"), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_remove(md, "a"), VTEV_ERR_NOT_FOUND);
    ck_assert_uint_eq(vtev_metadata_count(md), 4);
    ck_assert_str_eq(vtev_metadata_entry(md, 1, &v), "c");
    /* dup */
    d = vtev_metadata_dup(md);
    ck_assert_ptr_nonnull(d);
    fx_assert_md_eq(md, d);
    ck_assert_ptr_null(vtev_metadata_dup(NULL));
    vtev_metadata_destroy(d);
    vtev_metadata_destroy(md);
    vtev_metadata_destroy(NULL);
    /* envelope helpers */
    memset(&env, 0, sizeof(env));
    ck_assert_ptr_null(vtev_envelope_correlation_id(&env));
    ck_assert_int_eq(vtev_metadata_set_int(vtev_envelope_metadata(&env), "correlation_id", 5), VTEV_ERR_OK);
    ck_assert_ptr_null(vtev_envelope_correlation_id(&env));
    ck_assert_int_eq(vtev_metadata_set_string(vtev_envelope_metadata(&env), "correlation_id", "c-1"),
                     VTEV_ERR_OK);
    ck_assert_str_eq(vtev_envelope_correlation_id(&env), "c-1");
    ck_assert_ptr_eq(vtev_envelope_metadata(&env), env.metadata);
    vtev_metadata_destroy(env.metadata);
    ck_assert_ptr_null(vtev_envelope_metadata(NULL));
    ck_assert_int_eq(vtev_metadata_set_string(NULL, "a", "b"), VTEV_ERR_INVALID_ARG);
    md = vtev_metadata_new();
    ck_assert_int_eq(vtev_metadata_set_string(md, NULL, "b"), VTEV_ERR_INVALID_ARG);
    vtev_metadata_destroy(md);
}
END_TEST

int main(void) {
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("event");
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_init_defaults);
    tcase_add_test(tc, test_event_init_type);
    tcase_add_test(tc, test_copy_is_deep);
    tcase_add_test(tc, test_metadata_map);
    suite_add_tcase(s, tc);
    return vtev_test_run(s);
}
