/*
 * internal.h - helpers shared inside libvtevents. Never installed.
 */
#ifndef VTEV_INTERNAL_H
#define VTEV_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <vtevents/error.h>

#if defined(__GNUC__)
#define VTEV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VTEV_PRINTF(a, b)
#endif

#define VTEV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** Length of the valid UTF-8 sequence (RFC 3629) at s with n bytes left
 *  (n >= 1), or 0 when the bytes there are not one. */
size_t vtev__utf8_seq(const unsigned char *s, size_t n);

/** Copies in to out (size bytes with the NUL), with control characters,
 *  DEL and bytes that are not valid UTF-8 written as \xNN: text from the
 *  data is safe on a terminal, in a log and in a header.  Idempotent.
 *  Returns the length written. */
size_t vtev__escape(const char *in, char *out, size_t size);

/** Writes a formatted message into errstr (when errstr && size > 0); never
 *  overflows; the result is escaped as by vtev__escape(). */
void vtev__seterr(char *errstr, size_t errstr_size, const char *fmt, ...) VTEV_PRINTF(3, 4);

/** Sets errstr (escaped, as vtev__seterr()) and returns err: `return vtev__fail(ERR, errstr, sz, "...")`. */
vtev_err_t vtev__fail(vtev_err_t err, char *errstr, size_t errstr_size,
                      const char *fmt, ...) VTEV_PRINTF(4, 5);

/** strdup that returns NULL for NULL. */
char *vtev__strdup(const char *s);

/** pthread_create() for the library's own threads: the new thread starts
 *  with every signal blocked (as librdkafka's threads do), so a signal meant
 *  for the application (SIGINT, SIGTERM, SIGPIPE, ...) is never handled on a
 *  library thread, where it would not interrupt the application's blocking
 *  call.  Returns 0 or an errno value. */
int vtev__thread_create(pthread_t *thr, void *(*fn)(void *), void *arg);

/** Monotonic clock in microseconds. */
int64_t vtev__now_mono_us(void);

/** Wall clock (UTC) in microseconds since the epoch. */
int64_t vtev__now_wall_us(void);

/** Fills buf with size bytes from the kernel's random source. Returns 0 or -1. */
int vtev__random_bytes(void *buf, size_t size);

/** How vtev__backoff_ms() spreads the delay. */
typedef enum {
    VTEV__JITTER_FULL, /**< uniformly in [0, d]: the registry client's retries */
    VTEV__JITTER_EQUAL /**< uniformly in [d/2, d]: the consumer's handler retries */
} vtev__jitter_t;

/** The delay before retry number attempt (1-based; below 1 counts as 1), in
 *  ms (backoff.c): d = base_ms doubled for every attempt after the first,
 *  capped at max_ms, then spread by jitter (a d of 0, or of 1 with equal
 *  jitter, is returned as it is). */
int64_t vtev__backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, vtev__jitter_t jitter);

/** How the delay of a retry tier grows (consumer.retry.tier.backoff). */
typedef enum {
    VTEV__TIER_EXPONENTIAL, /**< base * 2^(n-1) */
    VTEV__TIER_FIXED,       /**< base */
    VTEV__TIER_LINEAR       /**< base * n */
} vtev__tier_backoff_t;

/** The delay of retry tier n (1-based; below 1 counts as 1) in ms
 *  (backoff.c), capped at max_ms; no jitter (a tier's messages keep their
 *  order). */
int64_t vtev__tier_delay_ms(vtev__tier_backoff_t how, int n, int64_t base_ms, int64_t max_ms);

/* A descriptor this library can read: every vtev_type_t layout version from
 * 1 to its own (doc/ABI.md: members are only appended). */
#define VTEV__TYPE_ABI_OK(t) ((t)->abi_version >= 1 && (t)->abi_version <= VTEV_TYPE_ABI_VERSION)

#endif
