/*
 * timestamp.c - ISO-8601 UTC timestamps <-> microseconds since the epoch.
 */
#include "event_int.h"

#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
int64_t vtev__days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void vtev__civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

size_t vtev__format_time(int64_t v, int64_t per_second, char *buf, size_t size) {
    int64_t per_day = 86400 * per_second, days, rem, y;
    int m, d, n, hh, mm, ss;
    int64_t frac, us;
    days = v / per_day;
    rem = v % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    vtev__civil_from_days(days, &y, &m, &d);
    hh = (int)(rem / (3600 * per_second));
    mm = (int)(rem / (60 * per_second) % 60);
    ss = (int)(rem / per_second % 60);
    frac = rem % per_second;
    us = frac * (1000000 / per_second);
    if (us % 1000 == 0)
        n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, hh, mm, ss,
                     (int)(us / 1000));
    else
        n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", (long long)y, m, d, hh, mm, ss,
                     (int)us);
    return n < 0 ? 0 : (size_t)n;
}

size_t vtev__format_timestamp(int64_t us, char *buf, size_t size) {
    return vtev__format_time(us, 1000000, buf, size);
}

static int digits(const char **p, int n, int *out) {
    int v = 0, i;
    for (i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int vtev__parse_timestamp(const char *s, int64_t *usp) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h, mi, sec, frac = 0, nfrac = 0, off = 0, dim;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
        return -1;
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            if (nfrac < 6) {
                frac = frac * 10 + (*p - '0');
                nfrac++;
            }
            p++;
        }
        while (nfrac < 6) {
            frac *= 10;
            nfrac++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 60 + om);
    } /* no zone designator: UTC */
    if (*p != '\0')
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return -1;
    dim = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > dim)
        return -1;
    *usp = ((vtev__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60) * 1000000) +
           frac;
    return 0;
}
