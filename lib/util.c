/*
 * util.c - small helpers used across the library.
 */
#include "event_int.h"
#include "internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

size_t vtev__utf8_seq(const unsigned char *s, size_t n) {
    size_t len, k;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

size_t vtev__escape(const char *in, char *out, size_t size) {
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), i = 0, o = 0;
    if (!size)
        return 0;
    while (i < n) {
        size_t len = vtev__utf8_seq(s + i, n - i);
        if (len == 1 && (s[i] < 0x20 || s[i] == 0x7f))
            len = 0; /* a control character */
        if (len) {
            if (o + len >= size)
                break;
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else {
            if (o + 4 >= size)
                break;
            snprintf(out + o, 5, "\\x%02x", s[i]);
            o += 4;
            i++;
        }
    }
    out[o] = '\0';
    return o;
}

/* Formats, then escapes what came from the data (control characters,
 * invalid UTF-8): every message the library writes is safe to print. */
static void format_escaped(char *errstr, size_t errstr_size, const char *fmt, va_list ap) {
    char stack[1024], *tmp = errstr_size <= sizeof(stack) ? stack : malloc(errstr_size);
    if (!tmp) {
        vsnprintf(errstr, errstr_size, fmt, ap);
        return;
    }
    vsnprintf(tmp, errstr_size, fmt, ap);
    vtev__escape(tmp, errstr, errstr_size);
    if (tmp != stack)
        free(tmp);
}

void vtev__seterr(char *errstr, size_t errstr_size, const char *fmt, ...) {
    va_list ap;
    if (!errstr || errstr_size == 0)
        return;
    va_start(ap, fmt);
    format_escaped(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

vtev_err_t vtev__fail(vtev_err_t err, char *errstr, size_t errstr_size,
                      const char *fmt, ...) {
    va_list ap;
    if (errstr && errstr_size > 0) {
        va_start(ap, fmt);
        format_escaped(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

int vtev__thread_create(pthread_t *thr, void *(*fn)(void *), void *arg) {
    sigset_t all, old;
    int err;
    sigfillset(&all);
    if ((err = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
        return err;
    err = pthread_create(thr, NULL, fn, arg); /* inherits the full mask */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

char *vtev__strdup(const char *s) {
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int64_t vtev__now_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t vtev__now_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int vtev__random_bytes(void *buf, size_t size) {
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t r = getrandom(p, size, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        size -= (size_t)r;
    }
    return 0;
}

void vtev_free(void *ptr) {
    free(ptr);
}

/* The shortest decimal that reads back as d, laid out as Python's repr()
 * does (fixed notation for exponents -4..15, else d.ddde+XX), but without
 * repr's ".0" on integral values.  For up to 15 significant digits the
 * correctly rounded %.15e is the shortest (two 15-digit decimals never fall
 * within one double's rounding interval); otherwise 16 or 17 digits.
 * Subnormals have fewer digits of precision and are searched from one. */
const char *vtev__dtoa(double d, char *buf, size_t size) {
    char e[40], digits[20];
    int prec, exp, nd = 0, decpt, i;
    size_t n = 0;
    const char *p;
    if (isnan(d)) {
        snprintf(buf, size, "NaN");
        return buf;
    }
    if (isinf(d)) {
        snprintf(buf, size, d < 0 ? "-inf" : "inf");
        return buf;
    }
    if (d == 0) {
        snprintf(buf, size, signbit(d) ? "-0" : "0");
        return buf;
    }
    /* subnormals carry fewer digits: search from one */
    for (prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, d);
        if (prec == 17 || strtod(e, NULL) == d)
            break;
    }
    /* e: [-]D.DDDDe[+-]XX -> digits without trailing zeros, exponent */
    for (p = e; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    exp = atoi(p + 1);
    decpt = exp + 1;
    if (size < 32) {
        if (size)
            buf[0] = 0;
        return buf;
    }
#define PUT(c) (buf[n++] = (c))
    if (d < 0)
        PUT('-');
    if (exp >= -4 && exp < 16) {
        if (decpt <= 0) {
            PUT('0');
            PUT('.');
            for (i = 0; i < -decpt; i++)
                PUT('0');
            for (i = 0; i < nd; i++)
                PUT(digits[i]);
        } else {
            for (i = 0; i < decpt || i < nd; i++) {
                if (i == decpt)
                    PUT('.');
                PUT(i < nd ? digits[i] : '0');
            }
        }
        buf[n] = 0;
    } else {
        PUT(digits[0]);
        if (nd > 1) {
            PUT('.');
            for (i = 1; i < nd; i++)
                PUT(digits[i]);
        }
        snprintf(buf + n, size - n, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
#undef PUT
    return buf;
}

long vtev__utf8_bad(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, len;
    while (i < n) {
        /* ASCII, the common case, eight bytes at a time */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (!(len = vtev__utf8_seq(s + i, n - i)))
            return (long)i;
        i += len;
    }
    return -1;
}
