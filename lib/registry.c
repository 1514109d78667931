/*
 * registry.c - the public Schema Registry client API: Confluent REST calls,
 * response and error mapping, caches and subject name strategies.
 *
 * The transport (registry_http.c for http(s)://, registry_mock.c for
 * mock://NAME) returns an HTTP status and a body; everything above it is
 * shared, so the unit tests on mock:// exercise the same paths as a real
 * registry.
 */
#include "metrics_int.h"
#include "registry_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

/* vtev_registry_cache_total{cache,result}: the series of each cache, looked
 * up once per process (a race looks up twice and stores the same pointer). */
enum { MC_SUBJECT, MC_SCHEMA_ID, MC_VERSION, MC_LATEST, MC_MISSING, MC__CNT };
static const char *const mc_names[MC__CNT] = {"subject", "schema_id", "version", "latest",
                                              "missing"};
static _Atomic(vtev__series_t *) mc_series[MC__CNT][2];

static void cache_metric(int cache, bool hit) {
    vtev__series_t *s = atomic_load_explicit(&mc_series[cache][hit], memory_order_acquire);
    if (!s) {
        s = vtev__metric_series(VTEV__M_REGISTRY_CACHE, mc_names[cache], hit ? "hit" : "miss");
        atomic_store_explicit(&mc_series[cache][hit], s, memory_order_release);
    }
    vtev__counter_add(s, 1);
}

#define CT_STRATEGY_TOPIC 0
#define CT_STRATEGY_RECORD 1
#define CT_STRATEGY_TOPIC_RECORD 2

static const char *const compat_names[VTEV_COMPAT__CNT] = {
    "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE",
};

const char *vtev_compat_level_name(vtev_compat_level_t level) {
    if ((int)level < 0 || level >= VTEV_COMPAT__CNT)
        return "UNKNOWN";
    return compat_names[level];
}

vtev_err_t vtev_compat_level_parse(const char *name, vtev_compat_level_t *levelp) {
    int i;
    if (!name || !levelp)
        return VTEV_ERR_INVALID_ARG;
    for (i = 0; i < VTEV_COMPAT__CNT; i++) {
        if (!strcasecmp(name, compat_names[i])) {
            *levelp = (vtev_compat_level_t)i;
            return VTEV_ERR_OK;
        }
    }
    return VTEV_ERR_INVALID_ARG;
}

/* Maps a Confluent error code / HTTP status to a vtev_err_t. */
static vtev_err_t map_error(int status, long code) {
    switch (code) {
    case 40401:
    case 40404: /* subject soft-deleted */
        return VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND;
    case 40402:
    case 40406: /* version soft-deleted */
        return VTEV_ERR_REGISTRY_VERSION_NOT_FOUND;
    case 40403:
        return VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND;
    case 409:
        return VTEV_ERR_REGISTRY_INCOMPATIBLE;
    case 42201:
        return VTEV_ERR_REGISTRY_INVALID_SCHEMA;
    case 42202: /* invalid version */
        return VTEV_ERR_REGISTRY_VERSION_NOT_FOUND;
    case 42203: /* invalid compatibility level */
        return VTEV_ERR_INVALID_ARG;
    default:
        break;
    }
    if (status == 401 || status == 403)
        return VTEV_ERR_REGISTRY_AUTH;
    if (code != 0 && code != 409)
        return VTEV_ERR_REGISTRY; /* e.g. 40405/40407 "must be soft deleted first" (409) */
    if (status == 409)
        return VTEV_ERR_REGISTRY_INCOMPATIBLE;
    if (status == 422)
        return VTEV_ERR_REGISTRY_INVALID_SCHEMA;
    if (status == 429 || status >= 500)
        return VTEV_ERR_REGISTRY_UNAVAILABLE;
    return VTEV_ERR_REGISTRY;
}

/*
 * One REST call: sends body (may be NULL), and on a 2xx answer stores the
 * parsed JSON in *jp (caller decrefs; jp may be NULL). On an error answer
 * returns the mapped error with "METHOD PATH: server message (HTTP s, error
 * code c)" in errstr; *codep (may be NULL) receives the Confluent error code.
 */
static vtev_err_t rest_call(vtev_registry_t *reg, const char *method, const char *path,
                            json_t *body, json_t **jp, long *codep, char *errstr,
                            size_t errstr_size) {
    vtev__reg_resp_t resp;
    char *btext = NULL;
    vtev_err_t err;
    json_t *j = NULL;
    json_error_t jerr;
    if (jp)
        *jp = NULL;
    if (codep)
        *codep = 0;
    if (body && !(btext = json_dumps(body, JSON_COMPACT)))
        return vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s %s: out of memory", method,
                          path);
    atomic_fetch_add(&reg->misses, 1);
    err = vtev__reg_call(reg, method, path, btext, &resp, errstr, errstr_size);
    free(btext);
    if (err != VTEV_ERR_OK)
        return err;
    if (resp.body && resp.len > 0)
        j = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &jerr);
    if (resp.status >= 200 && resp.status < 300) {
        if (!j) {
            char ex[256];
            vtev__reg_body_excerpt(resp.body, ex, sizeof(ex));
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "%s %s: registry %s answered HTTP %d with a body that is not "
                             "JSON: %s",
                             method, path, reg->url_desc, resp.status, ex);
        } else if (jp) {
            *jp = j;
            j = NULL;
        }
    } else {
        long code = 0;
        const char *msg = NULL;
        char ex[256];
        if (json_is_object(j)) {
            code = (long)json_integer_value(json_object_get(j, "error_code"));
            msg = json_string_value(json_object_get(j, "message"));
            if (!msg)
                msg = json_string_value(json_object_get(j, "detail"));
            if (!msg)
                msg = json_string_value(json_object_get(j, "title"));
        }
        if (!msg) {
            vtev__reg_body_excerpt(resp.body, ex, sizeof(ex));
            msg = ex;
        }
        if (codep)
            *codep = code;
        err = map_error(resp.status, code);
        if (resp.status == 400 && code == 0 && strstr(msg, "SSL certificate")) {
            /* nginx: "400 No required SSL certificate was sent" */
            err = VTEV_ERR_REGISTRY_TLS;
            vtev__seterr(errstr, errstr_size,
                         "%s %s: registry %s requires a client certificate "
                         "(schema.registry.ssl.certificate.location): HTTP 400: %s",
                         method, path, reg->url_desc, msg);
        } else if (err == VTEV_ERR_REGISTRY_AUTH) {
            const char *ui = vtev__conf_str(reg->conf, "basic.auth.user.info");
            const char *tok = vtev__conf_str(reg->conf, "bearer.auth.token");
            vtev__seterr(errstr, errstr_size, "%s %s: registry %s %s: HTTP %d: %s", method, path,
                         reg->url_desc,
                         ui && *ui     ? "refused the credentials of basic.auth.user.info"
                         : tok && *tok ? "refused the token of bearer.auth.token"
                                       : "requires credentials (basic.auth.user.info or "
                                         "bearer.auth.token are not set)",
                         resp.status, msg);
        } else if (resp.status >= 300 && resp.status < 400) {
            /* libcurl does not follow redirects: the URL is not the registry's */
            err = VTEV_ERR_REGISTRY_PROTOCOL;
            vtev__seterr(errstr, errstr_size,
                         "%s %s: registry %s answered with a redirect (HTTP %d): "
                         "schema.registry.url must name the registry itself: %s",
                         method, path, reg->url_desc, resp.status, msg);
        } else if (!json_is_object(j) && err == VTEV_ERR_REGISTRY) {
            /* not a registry's answer: a proxy's error page, an empty body */
            err = VTEV_ERR_REGISTRY_PROTOCOL;
            vtev__seterr(errstr, errstr_size,
                         "%s %s: %s answered HTTP %d without a registry error (a proxy or a "
                         "wrong schema.registry.url?): %s",
                         method, path, reg->url_desc, resp.status, msg);
        } else if (code) {
            vtev__seterr(errstr, errstr_size, "%s %s: %s (HTTP %d, error code %ld)", method,
                         path, msg, resp.status, code);
        } else {
            vtev__seterr(errstr, errstr_size, "%s %s: %s (HTTP %d from %s)", method, path, msg,
                         resp.status, reg->url_desc);
        }
    }
    json_decref(j);
    vtev__reg_resp_clear(&resp);
    return err;
}

/* "/subjects/<escaped>" + suffix into a malloc'd string. libcurl
 * percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~),
 * so a subject is always one path segment; the handle argument is unused. */
static char *subject_path(const char *prefix, const char *subject, const char *suffix) {
    size_t len = strlen(subject), n;
    char *esc, *p;
    if (len > INT_MAX || !(esc = curl_easy_escape(NULL, subject, (int)len)))
        return NULL;
    n = strlen(prefix) + strlen(esc) + strlen(suffix) + 1;
    if ((p = malloc(n)))
        snprintf(p, n, "%s%s%s", prefix, esc, suffix);
    curl_free(esc);
    return p;
}

static char *cache_key(const char *subject, const char *rest) {
    size_t n = strlen(subject) + strlen(rest) + 2;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\n%s", subject, rest);
    return k;
}

#define CHECK_ARGS(cond, what)                                                             \
    do {                                                                                   \
        if (!(cond))                                                                       \
            return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size, "%s: %s", __func__, \
                              what);                                                       \
    } while (0)

#define NOMEM(what) vtev__fail(VTEV_ERR_NOMEM, errstr, errstr_size, "%s: out of memory", what)

/* ---------------- create / destroy ---------------- */

vtev_registry_t *vtev_registry_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    vtev_registry_t *reg;
    const char *url, *strategy;
    size_t cap;
    int64_t ttl;
    if (!conf) {
        vtev__seterr(errstr, errstr_size, "vtev_registry_new: conf must not be NULL");
        return NULL;
    }
    url = vtev__conf_str(conf, "schema.registry.url");
    if (!url || !*url) {
        vtev__seterr(errstr, errstr_size, "schema.registry.url: is empty");
        return NULL;
    }
    if (!(reg = calloc(1, sizeof(*reg)))) {
        vtev__seterr(errstr, errstr_size, "vtev_registry_new: out of memory");
        return NULL;
    }
    pthread_mutex_init(&reg->hlock, NULL);
    cap = (size_t)vtev__conf_int(conf, "schema.registry.cache.capacity");
    ttl = vtev__conf_int(conf, "schema.registry.latest.cache.ttl.sec") * 1000000;
    strategy = vtev__conf_str(conf, "subject.name.strategy");
    reg->strategy = !strcmp(strategy, "record")         ? CT_STRATEGY_RECORD
                    : !strcmp(strategy, "topic-record") ? CT_STRATEGY_TOPIC_RECORD
                                                        : CT_STRATEGY_TOPIC;
    reg->auto_register = vtev__conf_bool(conf, "auto.register.schemas");
    reg->use_latest = vtev__conf_bool(conf, "use.latest.version");
    reg->ids = vtev__cache_new(cap, 0);
    reg->subj = vtev__cache_new(cap, 0);
    reg->vers = vtev__cache_new(cap, 0);
    /* TTL 0 disables the latest cache: every latest lookup is a request. */
    reg->latest = vtev__cache_new(cap, ttl > 0 ? ttl : 1);
    ttl = vtev__conf_int(conf, "schema.registry.missing.schema.cache.ttl.sec") * 1000000;
    reg->missing_ttl = ttl > 0;
    reg->missing = vtev__cache_new(cap, ttl > 0 ? ttl : 1);
    reg->url_desc = vtev__strdup(url);
    if (!reg->ids || !reg->subj || !reg->vers || !reg->latest || !reg->missing ||
        !reg->url_desc) {
        vtev__seterr(errstr, errstr_size, "vtev_registry_new: out of memory");
        goto fail;
    }
    reg->max_retries = (int)vtev__conf_int(conf, "schema.registry.max.retries");
    reg->backoff_ms = vtev__conf_int(conf, "schema.registry.retry.backoff.ms");
    reg->backoff_max_ms = vtev__conf_int(conf, "schema.registry.retry.backoff.max.ms");
    reg->call_timeout_ms = vtev__conf_int(conf, "schema.registry.call.timeout.ms");
    atomic_init(&reg->preferred, 0);
    if (!strncmp(url, "mock://", 7)) {
        const char *name = url[7] ? url + 7 : "default";
        if (strchr(name, ',') || strchr(name, '/')) {
            vtev__seterr(errstr, errstr_size,
                         "schema.registry.url: \"%s\": mock://NAME cannot be combined with "
                         "other URLs, and NAME cannot contain ',' or '/'",
                         url);
            goto fail;
        }
        if (!(reg->tx = vtev__mock_transport_new(name))) {
            vtev__seterr(errstr, errstr_size, "vtev_registry_new: out of memory");
            goto fail;
        }
    } else if (!(reg->tx = vtev__http_transport_new(conf, url, errstr, errstr_size))) {
        goto fail;
    }
    atomic_init(&reg->requests, 0);
    atomic_init(&reg->hits, 0);
    atomic_init(&reg->misses, 0);
    atomic_init(&reg->retries, 0);
    atomic_init(&reg->connects, 0);
    reg->conf = conf;
    return reg;
fail:
    reg->conf = NULL; /* not ours on failure */
    vtev_registry_destroy(reg);
    return NULL;
}

void vtev_registry_destroy(vtev_registry_t *reg) {
    if (!reg)
        return;
    vtev__transport_destroy(reg->tx);
    vtev__cache_destroy(reg->ids);
    vtev__cache_destroy(reg->subj);
    vtev__cache_destroy(reg->vers);
    vtev__cache_destroy(reg->latest);
    vtev__cache_destroy(reg->missing);
    free(reg->url_desc);
    vtev_conf_destroy(reg->conf);
    pthread_mutex_destroy(&reg->hlock);
    free(reg);
}

void vtev_registry_stats(const vtev_registry_t *reg, uint64_t *requestsp,
                         uint64_t *cache_hitsp, uint64_t *cache_missesp, uint64_t *retriesp) {
    vtev_registry_t *r = (vtev_registry_t *)reg; /* atomics loads only */
    if (requestsp)
        *requestsp = r ? atomic_load(&r->requests) : 0;
    if (cache_hitsp)
        *cache_hitsp = r ? atomic_load(&r->hits) : 0;
    if (cache_missesp)
        *cache_missesp = r ? atomic_load(&r->misses) : 0;
    if (retriesp)
        *retriesp = r ? atomic_load(&r->retries) : 0;
}

void vtev_registry_clear_caches(vtev_registry_t *reg) {
    if (!reg)
        return;
    vtev__cache_clear(reg->ids);
    vtev__cache_clear(reg->subj);
    vtev__cache_clear(reg->vers);
    vtev__cache_clear(reg->latest);
    vtev__cache_clear(reg->missing);
}

/* Forgets everything cached about subject (after a delete). */
static void forget_subject(vtev_registry_t *reg, const char *subject) {
    char *k = cache_key(subject, "");
    if (!k) { /* out of memory: drop everything, still correct */
        vtev__cache_clear(reg->subj);
        vtev__cache_clear(reg->vers);
        vtev__cache_clear(reg->latest);
        vtev__cache_clear(reg->missing);
        return;
    }
    vtev__cache_remove_prefix(reg->missing, k);
    vtev__cache_remove_prefix(reg->subj, k);
    vtev__cache_remove_prefix(reg->vers, k);
    vtev__cache_remove(reg->latest, k);
    free(k);
}

/* ---------------- schemas ---------------- */

static json_t *schema_body(const char *schema_json) {
    return json_pack("{s:s}", "schema", schema_json);
}

/*
 * The (subject, schema) cache is consulted by the schema's raw text first
 * (no parsing: the per-message path of a producer), then by its canonical
 * text. Returns 1 on a hit (filling *idp, *versionp), else 0 with *keyp and
 * *rawkeyp set to the keys to store an answer under (caller frees), or -1
 * when out of memory. With need_version, an entry without a known version
 * (-1, from register) is a miss.
 */
static int subj_cache_lookup(vtev_registry_t *reg, const char *subject, const char *schema_json,
                             bool need_version, int32_t *idp, int *versionp, char **keyp,
                             char **rawkeyp) {
    char *canon;
    int32_t id;
    int version;
    *keyp = *rawkeyp = NULL;
    if (!(*rawkeyp = cache_key(subject, schema_json)))
        return -1;
    if (vtev__cache_get(reg->subj, *rawkeyp, &id, &version, NULL) == 1 &&
        (version >= 1 || !need_version))
        goto hit;
    if (!(canon = vtev__schema_canonical(schema_json)))
        goto nomem;
    *keyp = cache_key(subject, canon);
    free(canon);
    if (!*keyp)
        goto nomem;
    if (vtev__cache_get(reg->subj, *keyp, &id, &version, NULL) == 1 &&
        (version >= 1 || !need_version)) {
        vtev__cache_put(reg->subj, *rawkeyp, id, version, NULL);
        goto hit;
    }
    cache_metric(MC_SUBJECT, false);
    return 0;
hit:
    atomic_fetch_add(&reg->hits, 1);
    cache_metric(MC_SUBJECT, true);
    if (idp)
        *idp = id;
    if (versionp)
        *versionp = version;
    free(*keyp);
    free(*rawkeyp);
    *keyp = *rawkeyp = NULL;
    return 1;
nomem:
    free(*rawkeyp);
    *rawkeyp = NULL;
    return -1;
}

static void subj_cache_store(vtev_registry_t *reg, const char *key, const char *rawkey,
                             int32_t id, int version) {
    vtev__cache_put(reg->subj, key, id, version, NULL);
    if (strcmp(key, rawkey))
        vtev__cache_put(reg->subj, rawkey, id, version, NULL);
}

vtev_err_t vtev_registry_register(vtev_registry_t *reg, const char *subject,
                                  const char *schema_json, int32_t *idp, char *errstr,
                                  size_t errstr_size) {
    char *key, *rawkey, *path;
    json_t *body, *resp = NULL;
    vtev_err_t err;
    int hit;
    CHECK_ARGS(reg && subject && *subject && schema_json && idp,
               "reg, subject, schema_json and idp are required");
    hit = subj_cache_lookup(reg, subject, schema_json, false, idp, NULL, &key, &rawkey);
    if (hit == 1)
        return VTEV_ERR_OK;
    if (hit < 0)
        return NOMEM("register");
    path = subject_path("/subjects/", subject, "/versions");
    body = schema_body(schema_json);
    if (!path || !body) {
        free(key);
        free(rawkey);
        free(path);
        json_decref(body);
        return NOMEM("register");
    }
    err = rest_call(reg, "POST", path, body, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_OK) {
        json_t *jid = json_object_get(resp, "id");
        if (!json_is_integer(jid)) {
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "POST %s: the response has no integer \"id\"", path);
        } else {
            *idp = (int32_t)json_integer_value(jid);
            /* version unknown (-1) until a lookup tells it */
            subj_cache_store(reg, key, rawkey, *idp, -1);
            vtev__cache_remove(reg->missing, rawkey);
            {
                char *lk = cache_key(subject, "");
                if (lk) {
                    vtev__cache_remove(reg->latest, lk);
                    free(lk);
                }
            }
        }
    }
    json_decref(resp);
    json_decref(body);
    free(path);
    free(key);
    free(rawkey);
    return err;
}

/*
 * Fallback of lookup for registries that compare schema texts byte for byte
 * (Apicurio unless apicurio.ccompat.use-canonical-hash=true): compares the
 * canonical form with each version of the subject, newest first. Versions
 * are fetched through the version cache. 1 when found, 0 when not, -1 on
 * error (the caller keeps the registry's "not found").
 */
static int lookup_by_versions(vtev_registry_t *reg, const char *subject,
                              const char *schema_json, int32_t *idp, int *versionp) {
    char err2[256], *want, *schema;
    int *versions = NULL, r = 0;
    size_t n = 0, i;
    if (vtev_registry_list_versions(reg, subject, &versions, &n, err2, sizeof(err2)))
        return -1;
    if (!(want = vtev__schema_canonical(schema_json))) {
        free(versions);
        return -1;
    }
    for (i = n; i > 0 && r == 0; i--) {
        int32_t id;
        int ver;
        char *canon;
        if (vtev_registry_get_version(reg, subject, versions[i - 1], &id, &ver, &schema, err2,
                                      sizeof(err2)))
            continue;
        canon = vtev__schema_canonical(schema);
        if (canon && !strcmp(canon, want)) {
            *idp = id;
            *versionp = ver;
            r = 1;
        }
        free(canon);
        free(schema);
    }
    free(want);
    free(versions);
    return r;
}

vtev_err_t vtev_registry_lookup(vtev_registry_t *reg, const char *subject,
                                const char *schema_json, int32_t *idp, int *versionp,
                                char *errstr, size_t errstr_size) {
    char *key, *rawkey, *path;
    json_t *body, *resp = NULL;
    vtev_err_t err;
    int32_t id = 0;
    int version = -1, hit;
    CHECK_ARGS(reg && subject && *subject && schema_json,
               "reg, subject and schema_json are required");
    hit = subj_cache_lookup(reg, subject, schema_json, versionp != NULL, idp, versionp, &key,
                            &rawkey);
    if (hit == 1)
        return VTEV_ERR_OK;
    if (hit < 0)
        return NOMEM("lookup");
    if (reg->missing_ttl) {
        /* a recent "not registered": answered again without a request */
        int32_t code;
        char *msg = NULL;
        if (vtev__cache_get(reg->missing, rawkey, &code, NULL, &msg) != 1) {
            cache_metric(MC_MISSING, false);
        } else {
            atomic_fetch_add(&reg->hits, 1);
            cache_metric(MC_MISSING, true);
            vtev__seterr(errstr, errstr_size,
                         "%s (cached for schema.registry.missing.schema.cache.ttl.sec)",
                         msg ? msg : "not registered");
            free(msg);
            free(key);
            free(rawkey);
            return (vtev_err_t)code;
        }
    }
    path = subject_path("/subjects/", subject, "");
    body = schema_body(schema_json);
    if (!path || !body) {
        free(key);
        free(rawkey);
        free(path);
        json_decref(body);
        return NOMEM("lookup");
    }
    err = rest_call(reg, "POST", path, body, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND &&
        lookup_by_versions(reg, subject, schema_json, &id, &version) == 1) {
        if (idp)
            *idp = id;
        if (versionp)
            *versionp = version;
        subj_cache_store(reg, key, rawkey, id, version);
        err = VTEV_ERR_OK;
        if (errstr && errstr_size)
            errstr[0] = '\0';
    } else if (err == VTEV_ERR_OK) {
        json_t *jid = json_object_get(resp, "id"), *jv = json_object_get(resp, "version");
        if (!json_is_integer(jid) || !json_is_integer(jv)) {
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "POST %s: the response lacks integer \"id\" and \"version\"",
                             path);
        } else {
            id = (int32_t)json_integer_value(jid);
            version = (int)json_integer_value(jv);
            if (idp)
                *idp = id;
            if (versionp)
                *versionp = version;
            subj_cache_store(reg, key, rawkey, id, version);
        }
    } else if (reg->missing_ttl && (err == VTEV_ERR_REGISTRY_SCHEMA_NOT_FOUND ||
                                    err == VTEV_ERR_REGISTRY_SUBJECT_NOT_FOUND)) {
        vtev__cache_put(reg->missing, rawkey, (int32_t)err, -1, errstr);
    }
    json_decref(resp);
    json_decref(body);
    free(path);
    free(key);
    free(rawkey);
    return err;
}

vtev_err_t vtev_registry_get_schema(vtev_registry_t *reg, int32_t id, char **schema_jsonp,
                                    char *errstr, size_t errstr_size) {
    char key[32], path[64];
    json_t *resp = NULL;
    vtev_err_t err;
    int hit;
    CHECK_ARGS(reg && schema_jsonp, "reg and schema_jsonp are required");
    *schema_jsonp = NULL;
    snprintf(key, sizeof(key), "%ld", (long)id);
    if ((hit = vtev__cache_get(reg->ids, key, NULL, NULL, schema_jsonp)) == 1) {
        atomic_fetch_add(&reg->hits, 1);
        cache_metric(MC_SCHEMA_ID, true);
        return VTEV_ERR_OK;
    }
    if (hit < 0)
        return NOMEM("get_schema");
    cache_metric(MC_SCHEMA_ID, false);
    snprintf(path, sizeof(path), "/schemas/ids/%ld", (long)id);
    err = rest_call(reg, "GET", path, NULL, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_OK) {
        const char *s = json_string_value(json_object_get(resp, "schema"));
        if (!s)
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "GET %s: the response has no \"schema\" string", path);
        else if (!(*schema_jsonp = vtev__strdup(s)))
            err = NOMEM("get_schema");
        else
            vtev__cache_put(reg->ids, key, id, -1, s);
    }
    json_decref(resp);
    return err;
}

vtev_err_t vtev_registry_get_version(vtev_registry_t *reg, const char *subject, int version,
                                     int32_t *idp, int *versionp, char **schema_jsonp,
                                     char *errstr, size_t errstr_size) {
    char vbuf[32], suffix[48], *key, *path;
    vtev__cache_t *cache;
    json_t *resp = NULL;
    vtev_err_t err;
    int32_t id;
    int ver, hit;
    char *schema = NULL;
    CHECK_ARGS(reg && subject && *subject && (version == -1 || version >= 1),
               "reg and subject are required and version must be -1 or >= 1");
    if (schema_jsonp)
        *schema_jsonp = NULL;
    if (version == -1) {
        cache = reg->latest;
        snprintf(vbuf, sizeof(vbuf), "latest");
        key = cache_key(subject, "");
    } else {
        cache = reg->vers;
        snprintf(vbuf, sizeof(vbuf), "%d", version);
        key = cache_key(subject, vbuf);
    }
    if (!key)
        return NOMEM("get_version");
    if ((hit = vtev__cache_get(cache, key, &id, &ver, &schema)) == 1) {
        atomic_fetch_add(&reg->hits, 1);
        cache_metric(version == -1 ? MC_LATEST : MC_VERSION, true);
        if (idp)
            *idp = id;
        if (versionp)
            *versionp = ver;
        if (schema_jsonp)
            *schema_jsonp = schema;
        else
            free(schema);
        free(key);
        return VTEV_ERR_OK;
    }
    if (hit < 0) {
        free(key);
        return NOMEM("get_version");
    }
    cache_metric(version == -1 ? MC_LATEST : MC_VERSION, false);
    snprintf(suffix, sizeof(suffix), "/versions/%s", vbuf);
    if (!(path = subject_path("/subjects/", subject, suffix))) {
        free(key);
        return NOMEM("get_version");
    }
    err = rest_call(reg, "GET", path, NULL, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_OK) {
        json_t *jid = json_object_get(resp, "id"), *jv = json_object_get(resp, "version");
        const char *s = json_string_value(json_object_get(resp, "schema"));
        if (!json_is_integer(jid) || !json_is_integer(jv) || !s) {
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "GET %s: the response lacks \"id\", \"version\" or \"schema\"",
                             path);
        } else {
            id = (int32_t)json_integer_value(jid);
            ver = (int)json_integer_value(jv);
            if (schema_jsonp && !(*schema_jsonp = vtev__strdup(s))) {
                err = NOMEM("get_version");
            } else {
                char idkey[32];
                if (idp)
                    *idp = id;
                if (versionp)
                    *versionp = ver;
                vtev__cache_put(cache, key, id, ver, s);
                snprintf(idkey, sizeof(idkey), "%ld", (long)id);
                vtev__cache_put(reg->ids, idkey, id, -1, s);
            }
        }
    }
    json_decref(resp);
    free(path);
    free(key);
    return err;
}

vtev_err_t vtev_registry_schema_id_for(vtev_registry_t *reg, const char *subject,
                                       const char *schema_json, int32_t *idp, char *errstr,
                                       size_t errstr_size) {
    CHECK_ARGS(reg && subject && *subject && schema_json && idp,
               "reg, subject, schema_json and idp are required");
    if (reg->use_latest)
        return vtev_registry_get_version(reg, subject, -1, idp, NULL, NULL, errstr,
                                         errstr_size);
    if (reg->auto_register)
        return vtev_registry_register(reg, subject, schema_json, idp, errstr, errstr_size);
    return vtev_registry_lookup(reg, subject, schema_json, idp, NULL, errstr, errstr_size);
}

vtev_err_t vtev_registry_subject_name(const vtev_registry_t *reg, const char *topic,
                                      const char *record_fullname, char *out,
                                      size_t out_size) {
    int n;
    if (!reg || !out || out_size == 0)
        return VTEV_ERR_INVALID_ARG;
    out[0] = '\0';
    switch (reg->strategy) {
    case CT_STRATEGY_RECORD:
        if (!record_fullname || !*record_fullname)
            return VTEV_ERR_INVALID_ARG;
        n = snprintf(out, out_size, "%s", record_fullname);
        break;
    case CT_STRATEGY_TOPIC_RECORD:
        if (!topic || !*topic || !record_fullname || !*record_fullname)
            return VTEV_ERR_INVALID_ARG;
        n = snprintf(out, out_size, "%s-%s", topic, record_fullname);
        break;
    default:
        if (!topic || !*topic)
            return VTEV_ERR_INVALID_ARG;
        n = snprintf(out, out_size, "%s-value", topic);
        break;
    }
    if (n < 0 || (size_t)n >= out_size) {
        out[0] = '\0';
        return VTEV_ERR_INVALID_ARG;
    }
    return VTEV_ERR_OK;
}

/* ---------------- subjects, versions, deletion ---------------- */

void vtev_registry_strings_free(char **arr, size_t cnt) {
    size_t i;
    if (!arr)
        return;
    for (i = 0; i < cnt; i++)
        free(arr[i]);
    free(arr);
}

vtev_err_t vtev_registry_list_subjects(vtev_registry_t *reg, char ***subjectsp, size_t *cntp,
                                       char *errstr, size_t errstr_size) {
    json_t *resp = NULL, *v;
    vtev_err_t err;
    size_t i, n;
    char **arr = NULL;
    CHECK_ARGS(reg && subjectsp && cntp, "reg, subjectsp and cntp are required");
    *subjectsp = NULL;
    *cntp = 0;
    if ((err = rest_call(reg, "GET", "/subjects", NULL, &resp, NULL, errstr, errstr_size)))
        return err;
    if (!json_is_array(resp)) {
        json_decref(resp);
        return vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                          "GET /subjects: the response is not an array");
    }
    n = json_array_size(resp);
    if (n && !(arr = calloc(n, sizeof(*arr)))) {
        json_decref(resp);
        return NOMEM("list_subjects");
    }
    json_array_foreach(resp, i, v) {
        if (!json_is_string(v) || !(arr[i] = vtev__strdup(json_string_value(v)))) {
            int is_str = json_is_string(v); /* v goes with resp */
            vtev_registry_strings_free(arr, n);
            json_decref(resp);
            return is_str ? NOMEM("list_subjects")
                                     : vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                                                  "GET /subjects: element %zu is not a string",
                                                  i);
        }
    }
    json_decref(resp);
    *subjectsp = arr;
    *cntp = n;
    return VTEV_ERR_OK;
}

/* Converts a JSON array of integers into a malloc'd int array. */
static vtev_err_t int_array(json_t *a, const char *what, int **outp, size_t *cntp,
                            char *errstr, size_t errstr_size) {
    size_t i, n;
    int *arr;
    json_t *v;
    if (!json_is_array(a))
        return vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                          "%s: the response is not an array", what);
    n = json_array_size(a);
    if (!(arr = malloc((n ? n : 1) * sizeof(*arr))))
        return NOMEM(what);
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v)) {
            free(arr);
            return vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                              "%s: element %zu is not an integer", what, i);
        }
        arr[i] = (int)json_integer_value(v);
    }
    if (outp)
        *outp = arr;
    else
        free(arr);
    if (cntp)
        *cntp = n;
    return VTEV_ERR_OK;
}

vtev_err_t vtev_registry_list_versions(vtev_registry_t *reg, const char *subject,
                                       int **versionsp, size_t *cntp, char *errstr,
                                       size_t errstr_size) {
    json_t *resp = NULL;
    vtev_err_t err;
    char *path;
    CHECK_ARGS(reg && subject && *subject && versionsp && cntp,
               "reg, subject, versionsp and cntp are required");
    *versionsp = NULL;
    *cntp = 0;
    if (!(path = subject_path("/subjects/", subject, "/versions")))
        return NOMEM("list_versions");
    if (!(err = rest_call(reg, "GET", path, NULL, &resp, NULL, errstr, errstr_size)))
        err = int_array(resp, path, versionsp, cntp, errstr, errstr_size);
    json_decref(resp);
    free(path);
    return err;
}

vtev_err_t vtev_registry_delete_version(vtev_registry_t *reg, const char *subject, int version,
                                        int permanent, int *deletedp, char *errstr,
                                        size_t errstr_size) {
    json_t *resp = NULL;
    vtev_err_t err;
    char suffix[64], *path;
    CHECK_ARGS(reg && subject && *subject && (version == -1 || version >= 1),
               "reg and subject are required and version must be -1 or >= 1");
    if (version == -1)
        snprintf(suffix, sizeof(suffix), "/versions/latest%s",
                 permanent ? "?permanent=true" : "");
    else
        snprintf(suffix, sizeof(suffix), "/versions/%d%s", version,
                 permanent ? "?permanent=true" : "");
    if (!(path = subject_path("/subjects/", subject, suffix)))
        return NOMEM("delete_version");
    err = rest_call(reg, "DELETE", path, NULL, &resp, NULL, errstr, errstr_size);
    forget_subject(reg, subject);
    if (err == VTEV_ERR_OK) {
        if (!json_is_integer(resp))
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "DELETE %s: the response is not a version number", path);
        else if (deletedp)
            *deletedp = (int)json_integer_value(resp);
    }
    json_decref(resp);
    free(path);
    return err;
}

vtev_err_t vtev_registry_delete_subject(vtev_registry_t *reg, const char *subject,
                                        int permanent, int **versionsp, size_t *cntp,
                                        char *errstr, size_t errstr_size) {
    json_t *resp = NULL;
    vtev_err_t err;
    char *path;
    CHECK_ARGS(reg && subject && *subject, "reg and subject are required");
    if (versionsp)
        *versionsp = NULL;
    if (cntp)
        *cntp = 0;
    if (!(path = subject_path("/subjects/", subject, permanent ? "?permanent=true" : "")))
        return NOMEM("delete_subject");
    err = rest_call(reg, "DELETE", path, NULL, &resp, NULL, errstr, errstr_size);
    forget_subject(reg, subject);
    if (err == VTEV_ERR_OK)
        err = int_array(resp, path, versionsp, cntp, errstr, errstr_size);
    json_decref(resp);
    free(path);
    return err;
}

/* ---------------- compatibility ---------------- */

vtev_err_t vtev_registry_test_compatibility(vtev_registry_t *reg, const char *subject,
                                            const char *schema_json, int version,
                                            int *compatiblep, char *errstr,
                                            size_t errstr_size) {
    json_t *body, *resp = NULL, *jc;
    vtev_err_t err;
    char suffix[64], *path;
    CHECK_ARGS(reg && subject && *subject && schema_json && compatiblep &&
                   (version == -1 || version >= 1),
               "reg, subject, schema_json and compatiblep are required and version must be "
               "-1 or >= 1");
    if (version == -1)
        snprintf(suffix, sizeof(suffix), "/versions/latest?verbose=true");
    else
        snprintf(suffix, sizeof(suffix), "/versions/%d?verbose=true", version);
    path = subject_path("/compatibility/subjects/", subject, suffix);
    body = schema_body(schema_json);
    if (!path || !body) {
        free(path);
        json_decref(body);
        return NOMEM("test_compatibility");
    }
    err = rest_call(reg, "POST", path, body, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_OK) {
        jc = json_object_get(resp, "is_compatible");
        if (!json_is_boolean(jc)) {
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "POST %s: the response has no boolean \"is_compatible\"", path);
        } else {
            *compatiblep = json_is_true(jc);
            vtev__seterr(errstr, errstr_size, "%s", "");
            if (!*compatiblep) {
                json_t *msgs = json_object_get(resp, "messages"), *m;
                size_t i, off = 0;
                json_array_foreach(msgs, i, m) {
                    if (json_is_string(m) && errstr && off + 1 < errstr_size) {
                        int w = snprintf(errstr + off, errstr_size - off, "%s%s",
                                         off ? "; " : "", json_string_value(m));
                        if (w < 0)
                            break;
                        off += (size_t)w;
                    }
                }
            }
        }
    }
    json_decref(resp);
    json_decref(body);
    free(path);
    return err;
}

vtev_err_t vtev_registry_get_compatibility(vtev_registry_t *reg, const char *subject,
                                           vtev_compat_level_t *levelp, char *errstr,
                                           size_t errstr_size) {
    json_t *resp = NULL;
    vtev_err_t err;
    char *path;
    long code = 0;
    const char *name;
    CHECK_ARGS(reg && levelp, "reg and levelp are required");
    if (subject) {
        CHECK_ARGS(*subject, "subject must not be empty");
        path = subject_path("/config/", subject, "?defaultToGlobal=true");
    } else {
        path = vtev__strdup("/config");
    }
    if (!path)
        return NOMEM("get_compatibility");
    err = rest_call(reg, "GET", path, NULL, &resp, &code, errstr, errstr_size);
    if (err != VTEV_ERR_OK && subject && (code == 40408 || code == 40401 ||
                                          err == VTEV_ERR_REGISTRY)) {
        /* No subject-level setting (registries that ignore defaultToGlobal,
         * see doc/registry.md): the global level applies. */
        free(path);
        return vtev_registry_get_compatibility(reg, NULL, levelp, errstr, errstr_size);
    }
    if (err == VTEV_ERR_OK) {
        name = json_string_value(json_object_get(resp, "compatibilityLevel"));
        if (!name)
            name = json_string_value(json_object_get(resp, "compatibility"));
        if (!name || vtev_compat_level_parse(name, levelp) != VTEV_ERR_OK)
            err = vtev__fail(VTEV_ERR_REGISTRY_PROTOCOL, errstr, errstr_size,
                             "GET %s: the response has no known \"compatibilityLevel\"", path);
    }
    json_decref(resp);
    free(path);
    return err;
}

vtev_err_t vtev_registry_set_compatibility(vtev_registry_t *reg, const char *subject,
                                           vtev_compat_level_t level, char *errstr,
                                           size_t errstr_size) {
    json_t *body, *resp = NULL;
    vtev_err_t err;
    char *path;
    CHECK_ARGS(reg, "reg is required");
    if ((int)level < 0 || level >= VTEV_COMPAT__CNT)
        return vtev__fail(VTEV_ERR_INVALID_ARG, errstr, errstr_size,
                          "set_compatibility: %d is not a compatibility level", (int)level);
    if (subject) {
        CHECK_ARGS(*subject, "subject must not be empty");
        path = subject_path("/config/", subject, "");
    } else {
        path = vtev__strdup("/config");
    }
    body = json_pack("{s:s}", "compatibility", vtev_compat_level_name(level));
    if (!path || !body) {
        free(path);
        json_decref(body);
        return NOMEM("set_compatibility");
    }
    err = rest_call(reg, "PUT", path, body, &resp, NULL, errstr, errstr_size);
    if (err == VTEV_ERR_REGISTRY && level == VTEV_COMPAT_NONE && errstr &&
        strstr(errstr, "No rule named")) {
        /* Apicurio stores a level as a rule and answers 404 "No rule named
         * 'COMPATIBILITY'" when asked to set NONE where no rule exists: the
         * level already is NONE (doc/registry.md). */
        err = VTEV_ERR_OK;
        errstr[0] = '\0';
    }
    json_decref(resp);
    json_decref(body);
    free(path);
    return err;
}
