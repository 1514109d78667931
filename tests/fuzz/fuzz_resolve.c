/*
 * fuzz_resolve.c - libFuzzer target for the resolving decode path: bytes
 * written with an evolved request schema (priority symbols re-ordered plus
 * one the reader lacks, a removed field the reader defaults, an added
 * writer-only field of nested arrays, maps and unions, an int where the
 * reader has a long) are decoded as the library's request event.  Whatever
 * decodes must validate or not without crashing and re-encode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/vtevents.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char WRITER[] =
    "{\"type\":\"record\",\"name\":\"PredictionAnalysisRequested\",\"namespace\":\"com.vesseltrack.events\","
    "\"fields\":[{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"extra\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":[\"null\",\"int\","
    "{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"b\",\"type\":\"bytes\"},{\"name\":\"f\","
    "\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}}]}]}}},"
    "{\"name\":\"event_type\",\"type\":\"string\"},"
    "{\"name\":\"timestamp\",\"type\":\"long\"},"
    "{\"name\":\"vessel_id\",\"type\":\"string\"},"
    "{\"name\":\"request_id\",\"type\":\"string\"},"
    "{\"name\":\"data\",\"type\":{\"type\":\"record\",\"name\":\"PredictionRequestData\",\"fields\":["
    "{\"name\":\"priority\",\"type\":{\"type\":\"enum\",\"name\":\"Priority\",\"symbols\":[\"high\",\"urgent\","
    "\"low\",\"normal\"]}},"
    "{\"name\":\"terminal_filter\",\"type\":[\"int\",\"null\"]},"
    "{\"name\":\"vessel_snapshot\",\"type\":{\"type\":\"record\",\"name\":\"VesselSnapshot\",\"fields\":["
    "{\"name\":\"lat\",\"type\":\"float\"},{\"name\":\"lon\",\"type\":\"double\"},{\"name\":\"speed\","
    "\"type\":\"int\"},{\"name\":\"heading\",\"type\":\"double\"},{\"name\":\"status\",\"type\":\"bytes\"}]}}]}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static vtev_schema_t *writer;
    vtev_event_t ev;
    char err[256];
    if (!writer) {
        writer = vtev_schema_new(WRITER, strlen(WRITER), err, sizeof(err));
        if (!writer) {
            fprintf(stderr, "writer schema: %s\n", err);
            abort();
        }
    }
    if (vtev_event_decode(&ev, VTEV_EVENT_REQUEST, writer, data, size, err, sizeof(err)) == VTEV_ERR_OK) {
        void *buf;
        size_t len;
        (void)vtev_event_validate(&ev, err, sizeof(err));
        if (vtev_event_encode(&ev, -1, &buf, &len, err, sizeof(err)) == VTEV_ERR_OK)
            vtev_free(buf);
        vtev_event_clear(&ev);
    }
    return 0;
}
