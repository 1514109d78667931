/*
 * fuzz_avro_json.c - libFuzzer target: the schema-driven JSON form
 * (<vtevents/avro_json.h>) on hostile input.  The first byte picks a schema
 * (the platform's three, one of every type and a recursive one) and a
 * direction; the rest is Avro bytes or JSON text.  Bytes that convert to
 * JSON convert back without a crash; JSON that converts to bytes must
 * convert back to JSON, and that text to the same bytes (unless it holds what
 * JSON text cannot: a float that overflowed to infinity, a time that an
 * offset moved past the year 9999).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/avro_json.h>

#include "event_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char every_type[] =
    "{\"type\": \"record\", \"name\": \"E\", \"namespace\": \"f\", \"fields\": ["
    "{\"name\": \"b\", \"type\": \"boolean\"}, {\"name\": \"i\", \"type\": \"int\", \"vt.min\": 0},"
    "{\"name\": \"l\", \"type\": \"long\"}, {\"name\": \"f\", \"type\": \"float\"},"
    "{\"name\": \"d\", \"type\": \"double\", \"vt.finite\": true}, {\"name\": \"by\", \"type\": \"bytes\"},"
    "{\"name\": \"s\", \"type\": \"string\", \"vt.maxLength\": 8},"
    "{\"name\": \"u\", \"type\": {\"type\": \"string\", \"logicalType\": \"uuid\"}},"
    "{\"name\": \"ms\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}},"
    "{\"name\": \"us\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-micros\"}},"
    "{\"name\": \"day\", \"type\": {\"type\": \"int\", \"logicalType\": \"date\"}},"
    "{\"name\": \"db\", \"type\": {\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": 30, \"scale\": 9}},"
    "{\"name\": \"df\", \"type\": {\"type\": \"fixed\", \"name\": \"M\", \"size\": 3, \"logicalType\": \"decimal\","
    " \"precision\": 6, \"scale\": 2}},"
    "{\"name\": \"e\", \"type\": {\"type\": \"enum\", \"name\": \"C\", \"symbols\": [\"A\", \"B\"]}},"
    "{\"name\": \"a\", \"type\": {\"type\": \"array\", \"items\": [\"null\", \"M\", \"C\", {\"type\": \"map\","
    " \"values\": \"int\"}]}, \"vt.maxItems\": 4},"
    "{\"name\": \"m\", \"type\": {\"type\": \"map\", \"values\": [\"null\", \"string\", \"long\", \"double\", \"boolean\"]},"
    " \"vt.keyNonEmpty\": true},"
    "{\"name\": \"o\", \"type\": [\"null\", \"E2\"], \"default\": null}]}";

static const char every_type_inner[] =
    "{\"type\": \"record\", \"name\": \"E2\", \"namespace\": \"f\", \"fields\": [{\"name\": \"x\", \"type\": \"int\"},"
    " {\"name\": \"n\", \"type\": [\"null\", \"int\"], \"default\": null}]}";

static const char recursive[] = "{\"type\": \"record\", \"name\": \"L\", \"fields\": [{\"name\": \"v\", \"type\": "
                                "\"int\"}, {\"name\": \"next\", \"type\": [\"null\", \"L\"], \"default\": null}]}";

#define NCODECS 5
static vtev_avro_json_t *codecs[NCODECS];

static void die(const char *why, const char *detail) {
    fprintf(stderr, "invariant broken: %s: %s\n", why, detail);
    abort();
}

static void init(void) {
    char err[512], both[4096];
    const char *texts[NCODECS] = {vtev__schema_position, vtev__schema_request, vtev__schema_result, both,
                                  recursive};
    int i;
    /* E2 defined first, E referring to it by name: a union of the two */
    snprintf(both, sizeof(both), "[%s, %s]", every_type_inner, every_type);
    for (i = 0; i < NCODECS; i++)
        if (!(codecs[i] = vtev_avro_json_new(texts[i], NULL, err, sizeof(err))))
            die("schema", err);
}

/* Text the JSON form writes but cannot read. */
static int unreadable(const char *json) {
    const char *p;
    if (strstr(json, "Infinity") || strstr(json, "NaN"))
        return 1;
    for (p = json; (p = strchr(p, '"')); p++) /* a year of five digits */
        if (strspn(p + 1, "0123456789") >= 5 && p[1 + strspn(p + 1, "0123456789")] == '-')
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vtev_avro_json_t *c;
    vtev_buf_t out = {0}, again = {0};
    char err[512], *json = NULL, *json2 = NULL;
    if (!codecs[0])
        init();
    if (size < 1)
        return 0;
    c = codecs[data[0] % NCODECS];
    if ((data[0] / NCODECS) % 2 == 0) { /* Avro bytes -> JSON -> bytes */
        if (vtev_avro_json_from_avro(c, data + 1, size - 1, data[0] & 0x80 ? VTEV_AVRO_JSON_PRETTY : 0, &json,
                                     NULL, err, sizeof(err)) == VTEV_ERR_OK) {
            (void)vtev_avro_json_to_avro(c, json, strlen(json), 0, &out, err, sizeof(err));
            vtev_free(json);
        }
    } else if (vtev_avro_json_to_avro(c, (const char *)data + 1, size - 1, data[0] & 0x80 ? 0 : VTEV_AVRO_JSON_NO_CONSTRAINTS,
                                      &out, err, sizeof(err)) == VTEV_ERR_OK) {
        /* what it wrote it reads, and writes again to the same bytes */
        if (vtev_avro_json_from_avro(c, out.data, out.len, 0, &json, NULL, err, sizeof(err)) != VTEV_ERR_OK)
            die("from_avro of to_avro's bytes", err);
        if (!unreadable(json)) {
            if (vtev_avro_json_to_avro(c, json, strlen(json), VTEV_AVRO_JSON_NO_CONSTRAINTS, &again, err,
                                       sizeof(err)) != VTEV_ERR_OK)
                die("to_avro of from_avro's text", err);
            if (again.len != out.len || memcmp(again.data, out.data, out.len))
                die("the bytes changed", json);
            if (vtev_avro_json_from_avro(c, again.data, again.len, 0, &json2, NULL, err, sizeof(err)) !=
                    VTEV_ERR_OK ||
                strcmp(json, json2))
                die("the text changed", json);
        }
        vtev_free(json);
        vtev_free(json2);
    }
    vtev_buf_free(&out);
    vtev_buf_free(&again);
    return 0;
}
