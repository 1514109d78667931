/*
 * test_interop.c - the Avro bytes of the three events against Python's
 * fastavro with the same .avsc files: what we encode fastavro decodes to
 * equal values, what fastavro encodes we decode to equal events, and both
 * sides produce the same bytes.  Needs $VTEV_PYTHON with fastavro.
 */
#include "event_fixtures.h"
#include "testutil.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *python;
static char tmpdir[256];

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void *read_file(const char *path, size_t *lenp) {
    FILE *f = fopen(path, "rb");
    long n;
    void *buf;
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *lenp = (size_t)n;
    return buf;
}

static const char *schema_file(vtev_event_type_t t) {
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s.avsc", VTEV_SCHEMA_DIR, vtev_event_type_name(t));
    return path;
}

static int run(const char *fmt, const char *a, const char *b, const char *c, const char *d) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), fmt, python, VTEV_PEER, a, b, c, d);
    return system(cmd);
}

static void check_both_ways(const vtev_event_t *ev, const char *tag) {
    char bin[512], js[512], pybin[512], err[256] = "";
    void *buf, *pybuf;
    size_t len, pylen;
    char *json;
    vtev_event_t out;
    int rc;
    snprintf(bin, sizeof(bin), "%s/%s.bin", tmpdir, tag);
    snprintf(js, sizeof(js), "%s/%s.json", tmpdir, tag);
    snprintf(pybin, sizeof(pybin), "%s/%s.py.bin", tmpdir, tag);
    ck_assert_int_eq(vtev_event_validate(ev, err, sizeof(err)), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_event_encode(ev, 4242, &buf, &len, err, sizeof(err)), VTEV_ERR_OK);
    write_file(bin, buf, len);
    ck_assert_int_eq(vtev_event_to_json(ev, 0, &json, NULL), VTEV_ERR_OK);
    write_file(js, json, strlen(json));
    /* ours -> fastavro */
    rc = run("'%s' '%s' decode '%s' '%s' '%s'%s", schema_file(ev->type), bin, js, "");
    ck_assert_msg(rc == 0, "%s: fastavro does not decode our bytes to the same values (rc %d)", tag, rc);
    /* fastavro -> ours */
    rc = run("'%s' '%s' encode '%s' '%s' '%s' %s", schema_file(ev->type), js, pybin, "4242");
    ck_assert_msg(rc == 0, "%s: fastavro encode failed (rc %d)", tag, rc);
    pybuf = read_file(pybin, &pylen);
    {
        const void *payload;
        size_t plen;
        int32_t id;
        ck_assert_int_eq(vtev_frame_parse(pybuf, pylen, &id, &payload, &plen, err, sizeof(err)), VTEV_ERR_OK);
        ck_assert_int_eq(id, 4242);
        ck_assert_msg(vtev_event_decode(&out, ev->type, NULL, payload, plen, err, sizeof(err)) == VTEV_ERR_OK,
                      "%s: %s", tag, err);
    }
    fx_assert_event_eq(ev, &out);
    /* the same bytes on both sides */
    ck_assert_uint_eq(pylen, len);
    ck_assert_msg(memcmp(pybuf, buf, len) == 0, "%s: fastavro's bytes differ from ours", tag);
    vtev_event_clear(&out);
    vtev_free(buf);
    vtev_free(json);
    free(pybuf);
}

START_TEST(test_position) {
    vtev_event_t ev;
    fx_position(&ev);
    check_both_ways(&ev, "position");
    ev.u.position.data.lat = -90;
    ev.u.position.data.lon = 0.1 + 0.2;
    ev.u.position.data.heading = nextafter(360.0, 0.0);
    ev.u.env.timestamp_us = INT64_C(1768059000123457);
    snprintf(ev.u.env.vessel_id, sizeof(ev.u.env.vessel_id), "\xe8\x88\xb9-\xf0\x9f\x9a\xa2");
    ck_assert_int_eq(vtev_metadata_set_int(ev.u.env.metadata, "big", INT64_MIN), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_double(ev.u.env.metadata, "whole", 2.0), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_double(ev.u.env.metadata, "max", DBL_MAX), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_bool(ev.u.env.metadata, "t", true), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_bool(ev.u.env.metadata, "f", false), VTEV_ERR_OK);
    ck_assert_int_eq(vtev_metadata_set_null(ev.u.env.metadata, "n"), VTEV_ERR_OK);
    check_both_ways(&ev, "position-edges");
    vtev_metadata_destroy(ev.u.env.metadata);
    ev.u.env.metadata = NULL;
    check_both_ways(&ev, "position-nometa");
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_request) {
    vtev_event_t ev;
    fx_request(&ev);
    check_both_ways(&ev, "request");
    ev.u.request.data.has_terminal_filter = false;
    ev.u.request.data.priority = VTEV_PRIORITY_NORMAL;
    check_both_ways(&ev, "request-nofilter");
    ev.u.request.data.priority = VTEV_PRIORITY_LOW;
    ev.u.request.data.has_terminal_filter = true;
    ev.u.request.data.terminal_filter = INT64_MAX;
    check_both_ways(&ev, "request-low");
    vtev_event_clear(&ev);
}
END_TEST

START_TEST(test_result) {
    vtev_event_t ev;
    fx_result(&ev);
    check_both_ways(&ev, "result");
    ev.u.result.data.has_eta_hours = false;
    ev.u.result.data.ai_reasoning[0] = '\0';
    ev.u.result.data.terminal_id = -1;
    check_both_ways(&ev, "result-noeta");
    vtev_event_clear(&ev);
}
END_TEST

int main(void) {
    Suite *s = suite_create("interop");
    TCase *tc = tcase_create("fastavro");
    int rc;
    char cmd[1024];
    python = getenv("VTEV_PYTHON");
    if (!python || !*python) {
        if (getenv("VTEV_ALLOW_SKIP") && !strcmp(getenv("VTEV_ALLOW_SKIP"), "1"))
            return 77;
        fprintf(stderr, "VTEV_PYTHON is not set (./run test sets it; or VTEV_ALLOW_SKIP=1)\n");
        return EXIT_FAILURE;
    }
    snprintf(cmd, sizeof(cmd), "'%s' -c 'import fastavro'", python);
    if (system(cmd) != 0) {
        fprintf(stderr, "%s cannot import fastavro (./run pydeps)\n", python);
        return EXIT_FAILURE;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vtev-interop-XXXXXX");
    if (!mkdtemp(tmpdir))
        return EXIT_FAILURE;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_position);
    tcase_add_test(tc, test_request);
    tcase_add_test(tc, test_result);
    suite_add_tcase(s, tc);
    rc = vtev_test_run(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return rc;
}
