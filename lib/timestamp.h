/*
 * timestamp.h - ISO-8601 UTC timestamps (timestamp.c): the one formatter and
 * parser of the library (events, JSON, generated code, dead-letter headers).
 * Never installed.
 */
#ifndef VTEV_TIMESTAMP_H
#define VTEV_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define VTEV__TS_MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */
/* Formats us as ISO-8601 UTC: milliseconds, or microseconds when needed.
 * buf needs >= 40 bytes. Returns the length. */
size_t vtev__format_timestamp(int64_t us, char *buf, size_t size);
/* The same for v units of 1/per_second s (1000: millis, always three
 * decimals; 1000000: micros). */
size_t vtev__format_time(int64_t v, int64_t per_second, char *buf, size_t size);
/* Days since 1970-01-01 <-> proleptic Gregorian dates. */
int64_t vtev__days_from_civil(int64_t y, int m, int d);
void vtev__civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* Parses ISO-8601; returns 0 or -1. */
int vtev__parse_timestamp(const char *s, int64_t *usp);

#endif
