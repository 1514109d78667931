/*
 * fuzz_json.c - libFuzzer target: JSON event parsing.  Whatever parses must
 * serialise, parse again and serialise to the same text (and Avro-encode).
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
    vtev_event_t ev, again;
    char err[256];
    if (vtev_event_from_json(&ev, (const char *)data, size, err, sizeof(err)) == VTEV_ERR_OK) {
        char *j1 = NULL, *j2 = NULL;
        void *buf;
        size_t len;
        int valid = vtev_event_validate(&ev, err, sizeof(err)) == VTEV_ERR_OK;
        if (vtev_event_to_json(&ev, size & 1 ? VTEV_JSON_PRETTY : 0, &j1, NULL) != VTEV_ERR_OK)
            die(err);
        if (vtev_event_from_json(&again, j1, strlen(j1), err, sizeof(err)) != VTEV_ERR_OK)
            die(err);
        if (vtev_event_to_json(&again, size & 1 ? VTEV_JSON_PRETTY : 0, &j2, NULL) != VTEV_ERR_OK ||
            strcmp(j1, j2) != 0)
            die(err);
        if (valid) {
            if (vtev_event_encode(&ev, -1, &buf, &len, err, sizeof(err)) != VTEV_ERR_OK)
                die(err);
            vtev_free(buf);
        }
        vtev_free(j1);
        vtev_free(j2);
        vtev_event_clear(&again);
        vtev_event_clear(&ev);
    }
    return 0;
}
