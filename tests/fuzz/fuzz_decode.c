/*
 * fuzz_decode.c - libFuzzer target: unframe + decode of untrusted Kafka
 * payloads.  The first input byte picks the event type and the writer
 * schema; the rest is the framed payload.  Whatever decodes must validate
 * or not without crashing, re-encode, and decode again to the same JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtevents/vtevents.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why) {
    fprintf(stderr, "invariant broken: %s\n", why);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vtev_event_type_t type;
    const vtev_schema_t *writer;
    const void *payload;
    size_t plen;
    int32_t id;
    vtev_event_t ev, again;
    char err[256];
    if (size < 1)
        return 0;
    type = (vtev_event_type_t)(1 + data[0] % 3);
    /* bit 2 set: name the writer explicitly; a mismatching writer exercises resolution */
    writer = (data[0] & 4) ? vtev_event_schema((vtev_event_type_t)(1 + (data[0] >> 3) % 3)) : NULL;
    if (vtev_frame_parse(data + 1, size - 1, &id, &payload, &plen, err, sizeof(err)) != VTEV_ERR_OK)
        return 0;
    if (vtev_event_decode(&ev, type, writer, payload, plen, err, sizeof(err)) == VTEV_ERR_OK) {
        void *buf;
        size_t len;
        char *j1 = NULL, *j2 = NULL;
        (void)vtev_event_validate(&ev, err, sizeof(err));
        if (vtev_event_encode(&ev, id & 0x7fffffff, &buf, &len, err, sizeof(err)) != VTEV_ERR_OK)
            die(err);
        if (vtev_event_decode(&again, type, NULL, (char *)buf + 5, len - 5, err, sizeof(err)) != VTEV_ERR_OK)
            die(err);
        if (vtev_event_to_json(&ev, 0, &j1, NULL) != VTEV_ERR_OK ||
            vtev_event_to_json(&again, 0, &j2, NULL) != VTEV_ERR_OK || strcmp(j1, j2) != 0)
            die(err);
        vtev_free(j1);
        vtev_free(j2);
        vtev_free(buf);
        vtev_event_clear(&again);
        vtev_event_clear(&ev);
    }
    return 0;
}
