/*
 * backoff.c - the library's one exponential backoff with jitter (internal.h):
 * the registry client's retries (full jitter) and the consumer's handler
 * retries (equal jitter); and the delays of the non-blocking retry tiers.
 */
#include "internal.h"

int64_t vtev__backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, vtev__jitter_t jitter) {
    int64_t d = base_ms;
    uint32_t r = 0;
    int i;
    for (i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (jitter == VTEV__JITTER_FULL ? d <= 0 : d <= 1)
        return d > 0 ? d : 0;
    if (vtev__random_bytes(&r, sizeof(r)) != 0)
        r = (uint32_t)vtev__now_mono_us();
    if (jitter == VTEV__JITTER_FULL)
        return (int64_t)(r % (uint64_t)(d + 1)); /* uniformly in [0, d] */
    return d / 2 + (int64_t)(r % (uint64_t)(d / 2 + 1)); /* uniformly in [d/2, d] */
}

int64_t vtev__tier_delay_ms(vtev__tier_backoff_t how, int n, int64_t base_ms, int64_t max_ms) {
    int64_t d = base_ms;
    int i;
    if (n < 1)
        n = 1;
    if (how == VTEV__TIER_LINEAR)
        d = base_ms > max_ms / n ? max_ms : base_ms * n;
    else if (how == VTEV__TIER_EXPONENTIAL)
        for (i = 1; i < n && d < max_ms; i++)
            d *= 2;
    return d > max_ms ? max_ms : d;
}
