/*
 * avro_direct.c - the runtime of the code vt-codegen generates
 * (include/vtevents/avro_direct.h): buffers, reads that allocate, error
 * paths, JSON output and the text forms of the logical types.
 */
#include "event_int.h"
#include "internal.h"

#include <vtevents/avro_direct.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Buffers                                                                 */

int vtev_buf_reserve(vtev_buf_t *buf, size_t extra) {
    size_t need, ncap;
    unsigned char *nb;
    if (!buf || extra > SIZE_MAX - buf->len)
        return -1;
    need = buf->len + extra;
    if (need <= buf->cap)
        return 0;
    ncap = buf->cap ? buf->cap : 256;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    if (!(nb = realloc(buf->data, ncap)))
        return -1;
    buf->data = nb;
    buf->cap = ncap;
    return 0;
}

void vtev_buf_free(vtev_buf_t *buf) {
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

/* ---------------------------------------------------------------------- */
/* Reads that allocate                                                     */

#define VTEV_RT_MAX_ITEMS_EMPTY ((size_t)1 << 20)

int vtev_rt_get_block(vtev_rt_rd_t *r, size_t min_item, size_t total, size_t *out) {
    int64_t n;
    int st = vtev_rt_get_long(r, &n);
    size_t cap;
    if (st)
        return st;
    if (n < 0) { /* a negative count is followed by the block's size in bytes */
        int64_t bytes;
        if (n == INT64_MIN)
            return vtev_rt_rd_fail(r, VTEV_RT_RD_LENGTH);
        n = -n;
        if ((st = vtev_rt_get_long(r, &bytes)))
            return st;
        if (bytes < 0 || (uint64_t)bytes > (uint64_t)vtev_rt_rd_left(r))
            return vtev_rt_rd_fail(r, VTEV_RT_RD_LENGTH);
    }
    if (min_item > 0) {
        cap = vtev_rt_rd_left(r) / min_item;
    } else {
        cap = total < VTEV_RT_MAX_ITEMS_EMPTY ? VTEV_RT_MAX_ITEMS_EMPTY - total : 0;
    }
    if ((uint64_t)n > (uint64_t)cap)
        return vtev_rt_rd_fail(r, VTEV_RT_RD_LENGTH);
    *out = (size_t)n;
    return 0;
}

int vtev_rt_get_str(vtev_rt_rd_t *r, char **out) {
    size_t n;
    char *s;
    int st = vtev_rt_get_len(r, &n);
    if (st)
        return st;
    if (n == 0) {
        *out = NULL;
        return 0;
    }
    if (memchr(r->p, 0, n))
        return vtev_rt_rd_fail(r, VTEV_RT_RD_NUL);
    if (!(s = malloc(n + 1)))
        return vtev_rt_rd_fail(r, VTEV_RT_RD_NOMEM);
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    *out = s;
    return 0;
}

int vtev_rt_get_bytes(vtev_rt_rd_t *r, vtev_bytes_t *out) {
    size_t n;
    int st = vtev_rt_get_len(r, &n);
    out->data = NULL;
    out->len = 0;
    if (st)
        return st;
    if (n == 0)
        return 0;
    if (!(out->data = malloc(n)))
        return vtev_rt_rd_fail(r, VTEV_RT_RD_NOMEM);
    memcpy(out->data, r->p, n);
    out->len = n;
    r->p += n;
    return 0;
}

static const char *map_key(const void *entries, size_t i, size_t stride) {
    /* a pointer to a struct points to its first member, the key */
    const char *k = *(char *const *)(const void *)((const unsigned char *)entries + i * stride);
    return k ? k : "";
}

int vtev_rt_map_dup(const void *entries, size_t n, size_t stride, size_t *first, size_t *second) {
    size_t i, j, cap, *slot;
    if (n < 2)
        return 0;
    if (n <= 8) {
        for (j = 1; j < n; j++)
            for (i = 0; i < j; i++)
                if (!strcmp(map_key(entries, i, stride), map_key(entries, j, stride))) {
                    *first = i;
                    *second = j;
                    return 1;
                }
        return 0;
    }
    /* open addressing, at most half full; a slot holds entry index + 1 */
    for (cap = 16; cap < 2 * n; cap *= 2)
        if (cap > SIZE_MAX / 4 / sizeof(*slot))
            return -1;
    if (!(slot = calloc(cap, sizeof(*slot))))
        return -1;
    for (j = 0; j < n; j++) {
        const unsigned char *k = (const unsigned char *)map_key(entries, j, stride);
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        size_t at;
        for (; *k; k++)
            h = (h ^ *k) * 1099511628211ULL;
        for (at = (size_t)h & (cap - 1); slot[at]; at = (at + 1) & (cap - 1)) {
            if (!strcmp(map_key(entries, slot[at] - 1, stride), map_key(entries, j, stride))) {
                *first = slot[at] - 1;
                *second = j;
                free(slot);
                return 1;
            }
        }
        slot[at] = j + 1;
    }
    free(slot);
    return 0;
}

const char *vtev_rt_rd_strerror(int status) {
    switch (status) {
    case VTEV_RT_RD_OK: return "no error";
    case VTEV_RT_RD_TRUNCATED: return "the input ends inside the value";
    case VTEV_RT_RD_VARINT: return "malformed or out-of-range varint";
    case VTEV_RT_RD_LENGTH: return "length or count exceeds the remaining input";
    case VTEV_RT_RD_BOOL: return "boolean byte is neither 0 nor 1";
    case VTEV_RT_RD_DEPTH: return "nesting is too deep";
    case VTEV_RT_RD_NUL: return "string contains a NUL byte";
    case VTEV_RT_RD_NOMEM: return "out of memory";
    default: return "unknown read error";
    }
}

/* ---------------------------------------------------------------------- */
/* Errors and small helpers                                                */

vtev_err_t vtev_rt_fail(vtev_err_t err, char *errstr, size_t errstr_size, const char *fmt, ...) {
    va_list ap;
    if (errstr && errstr_size > 0) {
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

void vtev_rt_err_prefix(char *errstr, size_t errstr_size, const char *seg) {
    size_t sl, ml, add;
    bool dot;
    if (!errstr || errstr_size < 2 || !seg || !*seg)
        return;
    ml = strnlen(errstr, errstr_size - 1);
    sl = strlen(seg);
    dot = ml > 0 && errstr[0] != ':' && errstr[0] != '[';
    add = sl + (dot ? 1 : 0);
    if (add >= errstr_size - 1) /* the segment alone fills the buffer */
        add = errstr_size - 1;
    if (ml > errstr_size - 1 - add)
        ml = errstr_size - 1 - add;
    memmove(errstr + add, errstr, ml);
    errstr[add + ml] = '\0';
    if (sl > add)
        sl = add;
    memcpy(errstr, seg, sl);
    if (dot && sl < add)
        errstr[sl] = '.';
}

char *vtev_rt_strdup(const char *s, bool *ok) {
    char *d;
    if (!s)
        return NULL;
    if (!(d = vtev__strdup(s)))
        *ok = false;
    return d;
}

int vtev_rt_bytes_copy(vtev_bytes_t *dst, const vtev_bytes_t *src) {
    dst->data = NULL;
    dst->len = 0;
    if (!src->len)
        return 0;
    if (!(dst->data = malloc(src->len)))
        return -1;
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
    return 0;
}

int vtev_rt_uuid4(char out[VTEV_RT_UUID_LEN + 1]) {
    return vtev__uuid4(out);
}

bool vtev_rt_uuid_valid(const char *s) {
    return s && strnlen(s, VTEV_UUID_LEN + 1) == VTEV_UUID_LEN && vtev__uuid_valid(s);
}

int64_t vtev_rt_now_us(void) {
    return vtev__now_wall_us();
}

const char *vtev_rt_dtoa(double d, char *buf, size_t size) {
    return vtev__dtoa(d, buf, size);
}

long vtev_rt_utf8_bad(const char *s, size_t n) {
    return vtev__utf8_bad(s, n);
}

/* ---------------------------------------------------------------------- */
/* JSON output                                                             */

void vtev__jw_put(vtev_rt_jw_t *w, const char *s, size_t n) {
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t ncap = w->cap ? w->cap : 256;
        char *nb;
        while (ncap < w->len + n + 1)
            ncap *= 2;
        if (!(nb = realloc(w->buf, ncap))) {
            w->oom = 1;
            return;
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void vtev_rt_jw_raw(vtev_rt_jw_t *w, const char *s) {
    vtev__jw_put(w, s, strlen(s));
}

void vtev__jw_newline(vtev_rt_jw_t *w) {
    int i;
    if (!w->pretty)
        return;
    vtev__jw_put(w, "\n", 1);
    for (i = 0; i < w->depth; i++)
        vtev__jw_put(w, "  ", 2);
}

static void jw_str_utf8(vtev_rt_jw_t *w, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    vtev__jw_put(w, "\"", 1);
    while (*p) {
        const unsigned char *q = p;
        while (*q && *q >= 0x20 && *q != '"' && *q != '\\' && *q != 0x7f)
            q++;
        vtev__jw_put(w, (const char *)p, (size_t)(q - p));
        p = q;
        if (!*p)
            break;
        switch (*p) {
        case '"': vtev_rt_jw_raw(w, "\\\""); break;
        case '\\': vtev_rt_jw_raw(w, "\\\\"); break;
        case '\n': vtev_rt_jw_raw(w, "\\n"); break;
        case '\r': vtev_rt_jw_raw(w, "\\r"); break;
        case '\t': vtev_rt_jw_raw(w, "\\t"); break;
        case '\b': vtev_rt_jw_raw(w, "\\b"); break;
        case '\f': vtev_rt_jw_raw(w, "\\f"); break;
        default: {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", *p);
            vtev_rt_jw_raw(w, e);
        }
        }
        p++;
    }
    vtev__jw_put(w, "\"", 1);
}

/* Bytes that are not UTF-8 (possible in decoded Avro, which fails
 * validation) become U+FFFD so that the output stays JSON. */
void vtev_rt_jw_str(vtev_rt_jw_t *w, const char *s) {
    size_t n, i = 0;
    char *fixed, *o;
    if (!s)
        s = "";
    n = strlen(s);
    if (vtev__utf8_bad(s, n) < 0) {
        jw_str_utf8(w, s);
        return;
    }
    if (!(fixed = malloc(n * 3 + 1))) {
        w->oom = 1;
        return;
    }
    o = fixed;
    while (i < n) {
        long b = vtev__utf8_bad(s + i, n - i);
        size_t good = b < 0 ? n - i : (size_t)b;
        memcpy(o, s + i, good);
        o += good;
        i += good;
        if (b >= 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    jw_str_utf8(w, fixed);
    free(fixed);
}

void vtev_rt_jw_int(vtev_rt_jw_t *w, int64_t v) {
    char b[32];
    snprintf(b, sizeof(b), "%lld", (long long)v);
    vtev_rt_jw_raw(w, b);
}

static void jw_number(vtev_rt_jw_t *w, double d, char *b) {
    if (!isfinite(d)) { /* not JSON; Python's json module writes and reads these tokens */
        vtev_rt_jw_raw(w, isnan(d) ? "NaN" : d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (!strpbrk(b, ".eE")) /* keep it a JSON float: 275 -> 275.0 */
        memcpy(b + strlen(b), ".0", 3);
    vtev_rt_jw_raw(w, b);
}

void vtev_rt_jw_double(vtev_rt_jw_t *w, double d) {
    char b[48];
    vtev__dtoa(d, b, sizeof(b) - 2);
    jw_number(w, d, b);
}

void vtev_rt_jw_float(vtev_rt_jw_t *w, float f) {
    char b[48];
    int prec;
    for (prec = 6; prec <= 9; prec++) {
        snprintf(b, sizeof(b) - 2, "%.*g", prec, (double)f);
        if (strtof(b, NULL) == f)
            break;
    }
    jw_number(w, (double)f, b);
}

void vtev_rt_jw_open(vtev_rt_jw_t *w, int *first, char ch) {
    vtev__jw_put(w, &ch, 1);
    w->depth++;
    *first = 1;
}

void vtev_rt_jw_key(vtev_rt_jw_t *w, int *first, const char *key) {
    if (!*first)
        vtev__jw_put(w, w->pretty ? "," : ", ", w->pretty ? 1 : 2);
    *first = 0;
    vtev__jw_newline(w);
    if (key) {
        vtev_rt_jw_str(w, key);
        vtev__jw_put(w, ": ", 2);
    }
}

void vtev_rt_jw_close(vtev_rt_jw_t *w, int first, char ch) {
    w->depth--;
    if (!first)
        vtev__jw_newline(w);
    vtev__jw_put(w, &ch, 1);
}

void vtev_rt_jw_timestamp(vtev_rt_jw_t *w, int64_t v, int64_t per_second) {
    char b[64];
    size_t n;
    b[0] = '"';
    n = vtev__format_time(v, per_second, b + 1, sizeof(b) - 3);
    if (n > sizeof(b) - 4)
        n = sizeof(b) - 4;
    b[n + 1] = '"';
    b[n + 2] = '\0';
    vtev_rt_jw_raw(w, b);
}

void vtev_rt_jw_date(vtev_rt_jw_t *w, int32_t days) {
    char b[32];
    int64_t y;
    int m, d;
    vtev__civil_from_days(days, &y, &m, &d);
    snprintf(b, sizeof(b), "\"%04lld-%02d-%02d\"", (long long)y, m, d);
    vtev_rt_jw_raw(w, b);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void vtev_rt_jw_base64(vtev_rt_jw_t *w, const unsigned char *p, size_t n) {
    char q[4];
    size_t i;
    vtev__jw_put(w, "\"", 1);
    for (i = 0; i + 2 < n; i += 3) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        q[3] = b64[p[i + 2] & 63];
        vtev__jw_put(w, q, 4);
    }
    if (n - i == 1) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[(p[i] & 3) << 4];
        q[2] = q[3] = '=';
        vtev__jw_put(w, q, 4);
    } else if (n - i == 2) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[(p[i + 1] & 15) << 2];
        q[3] = '=';
        vtev__jw_put(w, q, 4);
    }
    vtev__jw_put(w, "\"", 1);
}

void vtev_rt_jw_decimal(vtev_rt_jw_t *w, const unsigned char *p, size_t n, int scale) {
    unsigned char *mag;
    char *digits, *out;
    size_t nd = 0, i, o = 0, intd, dcap;
    bool neg = n > 0 && (p[0] & 0x80);
    if (scale < 0)
        scale = 0;
    /* the digits of the value (at most 3 per byte, and one for 0), then the
     * zeros that pad it to scale + 1 digits */
    dcap = (n * 3 + 2 > (size_t)scale + 2 ? n * 3 + 2 : (size_t)scale + 2);
    if (!(mag = malloc(n + 1)) || !(digits = malloc(dcap))) {
        free(mag);
        w->oom = 1;
        return;
    }
    if (n) /* an empty value (zero) may come with p == NULL */
        memcpy(mag, p, n);
    if (neg) { /* two's complement magnitude */
        int carry = 1;
        for (i = n; i-- > 0;) {
            int v = (unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
    }
    for (;;) { /* repeated division by 10, least significant digit first */
        unsigned rem = 0;
        bool zero = true;
        for (i = 0; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            if (mag[i])
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero)
            break;
    }
    while (nd <= (size_t)scale)
        digits[nd++] = '0';
    if (!(out = malloc(nd + 5))) {
        free(mag);
        free(digits);
        w->oom = 1;
        return;
    }
    out[o++] = '"';
    if (neg)
        out[o++] = '-';
    intd = nd - (size_t)scale;
    for (i = 0; i < nd; i++) {
        if (i == intd)
            out[o++] = '.';
        out[o++] = digits[nd - 1 - i];
    }
    out[o++] = '"';
    out[o] = '\0';
    vtev_rt_jw_raw(w, out);
    free(out);
    free(mag);
    free(digits);
}

vtev_err_t vtev_rt_jw_finish(vtev_rt_jw_t *w, char **jsonp, size_t *lenp) {
    if (w->oom) {
        free(w->buf);
        memset(w, 0, sizeof(*w));
        return VTEV_ERR_NOMEM;
    }
    *jsonp = w->buf;
    if (lenp)
        *lenp = w->len;
    memset(w, 0, sizeof(*w));
    return VTEV_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* JSON input                                                              */

json_t *vtev_rt_json_load(const char *json, size_t len, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        vtev__seterr(errstr, errstr_size, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    return root;
}

const char *vtev_rt_json_kind(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

int vtev_rt_parse_timestamp(const char *s, int64_t per_second, int64_t *out) {
    int64_t us;
    if (!s || vtev__parse_timestamp(s, &us) != 0)
        return -1;
    if (per_second == 1000000) {
        *out = us;
        return 0;
    }
    if (per_second != 1000 || us % 1000 != 0) /* sub-millisecond digits are not representable */
        return -1;
    *out = us / 1000;
    return 0;
}

int vtev_rt_parse_date(const char *s, int32_t *out) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 0, d = 0, i, dim;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1)
        return -1;
    dim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > dim)
        return -1;
    *out = (int32_t)vtev__days_from_civil(y, m, d);
    return 0;
}

static int b64val(unsigned char c) {
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int vtev_rt_parse_base64(const char *s, size_t n, vtev_bytes_t *out) {
    size_t i, o = 0, pad = 0;
    unsigned acc = 0;
    int bits = 0;
    out->data = NULL;
    out->len = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return -1;
    if (n == 0)
        return 0;
    if (!(out->data = malloc(n * 3 / 4 + 1)))
        return -2;
    for (i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            free(out->data);
            out->data = NULL;
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[o++] = (unsigned char)(acc >> bits);
        }
        acc &= (1u << bits) - 1;
    }
    if (acc != 0) { /* non-canonical trailing bits */
        free(out->data);
        out->data = NULL;
        return -1;
    }
    out->len = o;
    return 0;
}

int vtev_rt_parse_decimal(const char *s, int scale, size_t size, vtev_bytes_t *out) {
    size_t nd = 0, frac = 0, cap, i, len;
    bool neg = false, point = false;
    unsigned char *mag, *res;
    const char *p;
    out->data = NULL;
    out->len = 0;
    if (!s || scale < 0)
        return -1;
    if (*s == '-') {
        neg = true;
        s++;
    }
    for (p = s; *p; p++) {
        if (*p == '.' && !point && p != s) {
            point = true;
        } else if (*p >= '0' && *p <= '9') {
            nd++;
            frac += point;
        } else {
            return -1;
        }
    }
    if (nd == 0 || frac > (size_t)scale || (point && p[-1] == '.'))
        return -1;
    cap = (nd + (size_t)scale) / 2 + 2; /* 100 > 2^6: at most 1 byte per 2 digits, plus sign */
    if (!(mag = calloc(cap, 1)))
        return -2;
    for (i = 0, p = s;; p++) { /* magnitude *= 10, += digit; then pad the scale */
        int digit, carry;
        size_t k;
        if (*p == '.')
            continue;
        if (*p) {
            digit = *p - '0';
        } else if (frac + i < (size_t)scale) {
            digit = 0;
            i++;
        } else {
            break;
        }
        carry = digit;
        for (k = cap; k-- > 0;) {
            int v = mag[k] * 10 + carry;
            mag[k] = (unsigned char)v;
            carry = v >> 8;
        }
        if (!*p)
            p--; /* stay on the terminator while padding */
    }
    if (neg) {
        int carry = 1;
        for (i = cap; i-- > 0;) {
            int v = (unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
    }
    /* shortest two's complement: drop leading bytes that only repeat the sign */
    for (i = 0; i + 1 < cap; i++) {
        if (!((mag[i] == 0 && !(mag[i + 1] & 0x80)) || (mag[i] == 0xff && (mag[i + 1] & 0x80))))
            break;
    }
    len = cap - i;
    if (size) {
        if (len > size) {
            free(mag);
            return -1;
        }
        if (!(res = malloc(size))) {
            free(mag);
            return -2;
        }
        memset(res, neg ? 0xff : 0, size - len);
        memcpy(res + size - len, mag + i, len);
        len = size;
    } else {
        if (!(res = malloc(len))) {
            free(mag);
            return -2;
        }
        memcpy(res, mag + i, len);
    }
    free(mag);
    out->data = res;
    out->len = len;
    return 0;
}
