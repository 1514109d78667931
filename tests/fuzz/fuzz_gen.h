/*
 * fuzz_gen.h - the body of the libFuzzer targets for the decoders vt-codegen
 * generates (fuzz_gen_*.c include the generated header, define FUZZ_TYPE as
 * its descriptor and include this).  The input is the Avro binary of one
 * record (no framing).  Invariants checked:
 *   - a failed decode returns DECODE (or NOMEM) with a message and leaves the
 *     event zeroed, whatever it held before;
 *   - a decoded event prints as JSON (compact and pretty), re-encodes, and
 *     the re-encoding is no longer than the input (it is the shortest form);
 *   - decode(encode(decode(x))) == decode(x): same JSON, same bytes again;
 *   - copy() gives an event that encodes to the same bytes;
 *   - an event that validates reads back from its JSON, and the event read
 *     prints the same JSON (unless the JSON holds NaN or Infinity, which JSON
 *     cannot carry; the same JSON, not the same bytes: a decimal's bytes may
 *     carry redundant sign bytes, or none for zero, which its text drops);
 *   - validate() may refuse, but not crash; everything is freed by clear().
 */
#ifndef VTEV_FUZZ_GEN_H
#define VTEV_FUZZ_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtevents/avro_direct.h>
#include <vtevents/type.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_die(const char *why, const char *detail) {
    fprintf(stderr, "invariant broken: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
    abort();
}

static int fz_all_zero(const void *p, size_t n) {
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

static void fz_same(const char *what, const vtev_buf_t *a, const vtev_buf_t *b) {
    if (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
        fz_die(what, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const vtev_type_t *t = &FUZZ_TYPE;
    void *ev = calloc(1, t->size), *again = calloc(1, t->size), *cp = calloc(1, t->size),
         *fj = calloc(1, t->size);
    vtev_buf_t b1 = {0}, b2 = {0}, b3 = {0}, b4 = {0};
    char *j1 = NULL, *j2 = NULL, *j3 = NULL, *jp = NULL;
    char err[512];
    vtev_err_t rc;
    int valid;
    if (!ev || !again || !cp || !fj)
        abort();
    memset(ev, 0xa5, t->size); /* "contents overwritten": nothing of this may survive */
    err[0] = '\0';
    rc = t->decode(ev, data, size, err, sizeof(err));
    if (rc != VTEV_ERR_OK) {
        if (rc != VTEV_ERR_DECODE && rc != VTEV_ERR_NOMEM)
            fz_die("decode failed with an unexpected code", vtev_err2name(rc));
        if (!fz_all_zero(ev, t->size))
            fz_die("a failed decode left the event non-zero", err);
        if (!err[0])
            fz_die("a failed decode gave no message", NULL);
        goto out;
    }
    valid = t->validate(ev, err, sizeof(err)) == VTEV_ERR_OK;
    if (t->to_json(ev, 0, &j1, NULL) != VTEV_ERR_OK || t->to_json(ev, VTEV_TYPE_JSON_PRETTY, &jp, NULL) != VTEV_ERR_OK)
        fz_die("a decoded event does not print as JSON", NULL);
    if (t->encode(ev, &b1, err, sizeof(err)) != VTEV_ERR_OK)
        fz_die("a decoded event does not encode", err);
    if (b1.len > size)
        fz_die("the re-encoding is longer than the input", NULL);
    if (t->decode(again, b1.data, b1.len, err, sizeof(err)) != VTEV_ERR_OK)
        fz_die("the re-encoding does not decode", err);
    if (t->to_json(again, 0, &j2, NULL) != VTEV_ERR_OK || strcmp(j1, j2) != 0)
        fz_die("decode(encode(decode(x))) != decode(x)", j2);
    if (t->encode(again, &b2, err, sizeof(err)) != VTEV_ERR_OK)
        fz_die("the second decode does not encode", err);
    fz_same("encode(decode(encode(decode(x)))) != encode(decode(x))", &b1, &b2);
    if (t->copy(cp, ev) != VTEV_ERR_OK || t->encode(cp, &b3, err, sizeof(err)) != VTEV_ERR_OK)
        fz_die("copy", err);
    fz_same("encode(copy(e)) != encode(e)", &b1, &b3);
    if (valid) {
        if (t->from_json(fj, j1, strlen(j1), err, sizeof(err)) != VTEV_ERR_OK) {
            if (!strstr(j1, "NaN") && !strstr(j1, "Infinity"))
                fz_die("a valid event does not read back from its JSON", err);
        } else {
            if (t->encode(fj, &b4, err, sizeof(err)) != VTEV_ERR_OK)
                fz_die("the event read from JSON does not encode", err);
            if (t->to_json(fj, 0, &j3, NULL) != VTEV_ERR_OK || strcmp(j1, j3) != 0)
                fz_die("to_json(from_json(to_json(e))) != to_json(e)", j3);
        }
    }
    t->clear(fj);
    t->clear(cp);
    t->clear(again);
    t->clear(ev);
    if (!fz_all_zero(ev, t->size))
        fz_die("clear() left the event non-zero", NULL);
out:
    free(j1);
    free(j2);
    free(j3);
    free(jp);
    vtev_buf_free(&b1);
    vtev_buf_free(&b2);
    vtev_buf_free(&b3);
    vtev_buf_free(&b4);
    free(ev);
    free(again);
    free(cp);
    free(fj);
    return 0;
}

#endif /* VTEV_FUZZ_GEN_H */
