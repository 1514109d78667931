/*
 * avro_random.h - random avro-c generic values of any schema, for the tests
 * of generated code (test_codegen.c) and of the generic JSON form
 * (test_avro_json.c).  Values of fields whose names mark a logical type
 * ("dt_*", "ts_*", "timestamp", "u", "event_id") stay where its text form
 * reads back.  Deterministic: the same sequence on every run.
 */
#ifndef VTEV_TEST_AVRO_RANDOM_H
#define VTEV_TEST_AVRO_RANDOM_H

#include <avro.h>
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned long long rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t rnd_long(void) {
    switch (rnd() % 4) {
    case 0: return (int64_t)(rnd() % 200) - 100;
    case 1: return (int64_t)rnd();
    case 2: return rnd() % 2 ? INT64_MAX : INT64_MIN;
    default: return (int64_t)(rnd() % 100000000) * (rnd() % 2 ? 1 : -1);
    }
}

static double rnd_double(void) {
    double d;
    unsigned long long u = rnd();
    switch (rnd() % 4) {
    case 0: return (double)(int64_t)(rnd() % 2000 - 1000) / 8;
    case 1: return rnd() % 2 ? 0.0 : -0.0;
    default: memcpy(&d, &u, 8); return isfinite(d) ? d : 1.25;
    }
}

/* Random valid UTF-8 without NUL: ASCII (with JSON escapes), 2-, 3- and 4-byte sequences. */
static void rnd_str(char *buf, size_t cap) {
    static const char *const pieces[] = {"a", "Z", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x9a\xa2", " ", "/", "\x7f"};
    size_t n = rnd() % 12, o = 0, i;
    for (i = 0; i < n; i++) {
        const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
        if (o + strlen(p) + 1 >= cap)
            break;
        memcpy(buf + o, p, strlen(p));
        o += strlen(p);
    }
    buf[o] = '\0';
}

static void fill(avro_value_t *v, const char *field, int depth) {
    avro_schema_t s = avro_value_get_schema(v);
    char sb[128];
    size_t i, n;
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: avro_value_set_null(v); break;
    case AVRO_BOOLEAN: avro_value_set_boolean(v, (int)(rnd() % 2)); break;
    case AVRO_INT32:
        if (field && !strncmp(field, "dt_", 3)) /* a date a JSON date can hold */
            avro_value_set_int(v, (int32_t)(rnd() % 2900000) - 719000);
        else
            avro_value_set_int(v, (int32_t)rnd_long());
        break;
    case AVRO_INT64:
        if (field && !strcmp(field, "ts_ms")) /* milliseconds a JSON time can hold */
            avro_value_set_long(v, (int64_t)(rnd() % 253402300799999ULL) - (int64_t)(rnd() % 1000));
        else if (field && (!strncmp(field, "ts_", 3) || !strcmp(field, "timestamp")))
            avro_value_set_long(v, (int64_t)(rnd() % 253402300799999ULL) * (rnd() % 2 ? 1 : 1000) -
                                       (int64_t)(rnd() % 1000));
        else
            avro_value_set_long(v, rnd_long());
        break;
    case AVRO_FLOAT: {
        float f = (float)rnd_double();
        avro_value_set_float(v, isfinite(f) ? f : 2.5f);
        break;
    }
    case AVRO_DOUBLE: avro_value_set_double(v, rnd_double()); break;
    case AVRO_STRING:
        if (field && (!strcmp(field, "u") || !strcmp(field, "event_id")))
            snprintf(sb, sizeof(sb), "%08llx-1234-4abc-8def-0123456789ab", rnd() % 0xffffffffULL);
        else
            rnd_str(sb, sizeof(sb));
        avro_value_set_string(v, sb);
        break;
    case AVRO_BYTES: {
        /* shortest two's complement (so that a decimal reads back as the same bytes), never empty */
        unsigned char b[16];
        size_t len = 1 + rnd() % 12, k = 0;
        for (i = 0; i < len; i++)
            b[i] = (unsigned char)rnd();
        while (k + 1 < len && ((b[k] == 0 && !(b[k + 1] & 0x80)) || (b[k] == 0xff && (b[k + 1] & 0x80))))
            k++;
        avro_value_set_bytes(v, b + k, len - k);
        break;
    }
    case AVRO_FIXED: {
        unsigned char b[64];
        n = (size_t)avro_schema_fixed_size(s);
        for (i = 0; i < n && i < sizeof(b); i++)
            b[i] = (unsigned char)rnd();
        avro_value_set_fixed(v, b, n);
        break;
    }
    case AVRO_ENUM: avro_value_set_enum(v, (int)(rnd() % (unsigned)avro_schema_enum_number_of_symbols(s))); break;
    case AVRO_RECORD:
        avro_value_get_size(v, &n);
        for (i = 0; i < n; i++) {
            avro_value_t f;
            const char *name;
            avro_value_get_by_index(v, i, &f, &name);
            fill(&f, name, depth + 1);
        }
        break;
    case AVRO_ARRAY:
        n = depth > 4 ? 0 : rnd() % 4;
        for (i = 0; i < n; i++) {
            avro_value_t e;
            avro_value_append(v, &e, NULL);
            fill(&e, NULL, depth + 1);
        }
        break;
    case AVRO_MAP:
        n = depth > 4 ? 0 : rnd() % 4;
        for (i = 0; i < n; i++) {
            avro_value_t e;
            char key[32];
            snprintf(key, sizeof(key), "k%zu", i);
            avro_value_add(v, key, &e, NULL, NULL);
            fill(&e, NULL, depth + 1);
        }
        break;
    case AVRO_UNION: {
        avro_value_t br;
        n = avro_schema_union_size(s);
        avro_value_set_branch(v, (int)(rnd() % n), &br);
        fill(&br, field, depth + 1);
        break;
    }
    default: ck_abort_msg("unexpected avro type");
    }
}

#endif
