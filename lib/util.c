/*
 * util.c - small helpers used across the library.
 */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void vtev__seterr(char *errstr, size_t errstr_size, const char *fmt, ...) {
    va_list ap;
    if (!errstr || errstr_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

vtev_err_t vtev__fail(vtev_err_t err, char *errstr, size_t errstr_size,
                      const char *fmt, ...) {
    va_list ap;
    if (errstr && errstr_size > 0) {
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
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
