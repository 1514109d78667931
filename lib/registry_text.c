/*
 * registry_text.c - text helpers shared by the Schema Registry client and the
 * mock:// registries: responses, canonical schema text, excerpts of error
 * bodies. (Percent-encoding is libcurl's: registry.c, registry_mock.c.)
 */
#include "registry_transport.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vtev__reg_resp_clear(vtev__reg_resp_t *resp) {
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    resp->status = 0;
}

char *vtev__schema_canonical(const char *schema_json) {
    json_t *j = json_loads(schema_json, JSON_DECODE_ANY, NULL);
    char *s;
    if (!j)
        return vtev__strdup(schema_json);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

/* Copies the text of an HTML <title> (or the start of the body) into out. */
void vtev__reg_body_excerpt(const char *body, char *out, size_t out_size) {
    const char *t;
    size_t n;
    if (!body || !*body) {
        snprintf(out, out_size, "(empty body)");
        return;
    }
    if ((t = strstr(body, "<title>"))) {
        const char *e = strstr(t, "</title>");
        t += 7;
        n = e ? (size_t)(e - t) : strlen(t);
    } else {
        t = body;
        n = strlen(t);
    }
    if (n > 200)
        n = 200;
    snprintf(out, out_size, "%.*s", (int)n, t);
    for (n = 0; out[n]; n++)
        if (out[n] == '\n' || out[n] == '\r')
            out[n] = ' ';
}
