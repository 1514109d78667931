/*
 * registry_text.c - text helpers shared by the Schema Registry client and the
 * mock:// registries: responses, canonical schema text, percent-encoding,
 * excerpts of error bodies.
 */
#include "registry_transport.h"

#include <ctype.h>
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

char *vtev__url_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), i, j = 0;
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void vtev__url_unescape(char *s) {
    char *w = s;
    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
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
