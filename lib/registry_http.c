/*
 * registry_http.c - the libcurl transport of the Schema Registry client
 * (registry_transport.h): connection reuse (a pool of easy handles, each
 * keeping its connections), timeouts, basic and bearer authentication, TLS
 * (CA, client certificate and key, verification). One exchange with one URL
 * per call; retries and failover are registry_call.c's.
 */
#include "registry_transport.h"
#include "conf_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vtevents/version.h>

#define MAX_BODY (64u * 1024u * 1024u)

typedef struct vtev__http_s {
    vtev__transport_t base; /* first: the transport head */
    char **urls;
    size_t nurls;
    char *user, *password;   /* basic.auth.user.info, split at the first ':' */
    struct curl_slist *headers;
    char *ca, *cert, *key, *key_password;
    bool verify;
    long connect_timeout_ms, request_timeout_ms;
    pthread_mutex_t pool_lock;
    CURL **pool;
    size_t npool, cappool;
} vtev__http_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *trimdup(const char *s, size_t n) {
    char *d;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '/'))
        n--;
    if (!(d = malloc(n + 1)))
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* True when the authority part of url ("scheme://AUTHORITY/...") has a '@'. */
static bool has_userinfo(const char *url) {
    const char *a = strstr(url, "://"), *p;
    if (!a)
        return false;
    for (p = a + 3; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (*p == '@')
            return true;
    return false;
}

static bool file_readable(const vtev_conf_t *conf, const char *key, char *errstr,
                          size_t errstr_size) {
    const char *path = vtev__conf_str(conf, key);
    if (!path || !*path)
        return true;
    if (access(path, R_OK) != 0) {
        vtev__seterr(errstr, errstr_size, "%s: cannot read \"%s\": %s", key, path,
                     strerror(errno));
        return false;
    }
    return true;
}

static void http_destroy(vtev__http_t *h) {
    size_t i;
    if (!h)
        return;
    for (i = 0; i < h->nurls; i++)
        free(h->urls[i]);
    free(h->urls);
    for (i = 0; i < h->npool; i++)
        curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    pthread_mutex_destroy(&h->pool_lock);
    if (h->password) { /* do not leave the secret in freed memory */
        memset(h->password, 0, strlen(h->password));
        free(h->password);
    }
    free(h->user);
    if (h->key_password) {
        memset(h->key_password, 0, strlen(h->key_password));
        free(h->key_password);
    }
    if (h->headers) { /* the bearer token's header: do not leave it in freed memory */
        struct curl_slist *l;
        for (l = h->headers; l; l = l->next)
            if (l->data)
                memset(l->data, 0, strlen(l->data));
        curl_slist_free_all(h->headers);
    }
    free(h->ca);
    free(h->cert);
    free(h->key);
    free(h);
}

static const vtev__transport_ops_t http_ops;

vtev__transport_t *vtev__http_transport_new(const vtev_conf_t *conf, const char *urls,
                                            char *errstr, size_t errstr_size) {
    vtev__http_t *h;
    const char *p, *ui, *tok;
    size_t i;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        vtev__seterr(errstr, errstr_size, "schema.registry.url: libcurl initialisation failed: %s",
                     curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    if (!(h = calloc(1, sizeof(*h)))) {
        vtev__seterr(errstr, errstr_size, "vtev_registry_new: out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->pool_lock, NULL);
    /* URLs */
    for (p = urls, i = 1; *p; p++)
        if (*p == ',')
            i++;
    if (!(h->urls = calloc(i, sizeof(*h->urls))))
        goto nomem;
    for (p = urls; p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *u = trimdup(p, n);
        if (!u)
            goto nomem;
        if (!*u) {
            free(u);
        } else if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
            vtev__seterr(errstr, errstr_size,
                         "schema.registry.url: \"%s\" is not an http:// or https:// URL (or "
                         "mock://NAME)",
                         u);
            free(u);
            goto fail;
        } else if (has_userinfo(u)) {
            vtev__seterr(errstr, errstr_size,
                         "schema.registry.url: URL %zu: credentials in the URL are not "
                         "supported; use basic.auth.user.info",
                         h->nurls + 1);
            free(u);
            goto fail;
        } else {
            h->urls[h->nurls++] = u;
        }
        p = comma ? comma + 1 : NULL;
    }
    if (h->nurls == 0) {
        vtev__seterr(errstr, errstr_size, "schema.registry.url: no URL in \"%s\"", urls);
        goto fail;
    }
    /* Authentication */
    ui = vtev__conf_str(conf, "basic.auth.user.info");
    if (ui && *ui) {
        const char *colon = strchr(ui, ':');
        if (!colon) {
            vtev__seterr(errstr, errstr_size,
                         "basic.auth.user.info: expected \"user:password\" (no ':' found)");
            goto fail;
        }
        if (!(h->password = vtev__strdup(colon + 1)) ||
            !(h->user = malloc((size_t)(colon - ui) + 1)))
            goto nomem;
        memcpy(h->user, ui, (size_t)(colon - ui));
        h->user[colon - ui] = '\0';
    }
    tok = vtev__conf_str(conf, "bearer.auth.token");
    if (tok && *tok) {
        size_t n = strlen(tok) + 32;
        char *hdr;
        struct curl_slist *l;
        if (h->user) {
            vtev__seterr(errstr, errstr_size,
                         "bearer.auth.token: cannot be combined with basic.auth.user.info");
            goto fail;
        }
        if (!(hdr = malloc(n)))
            goto nomem;
        snprintf(hdr, n, "Authorization: Bearer %s", tok);
        l = curl_slist_append(h->headers, hdr);
        memset(hdr, 0, n);
        free(hdr);
        if (!l)
            goto nomem;
        h->headers = l;
    }
    {
        static const char *const hdrs[] = {
            "Content-Type: application/vnd.schemaregistry.v1+json",
            ("Accept: application/vnd.schemaregistry.v1+json, "
             "application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5"),
            "Expect:",
        };
        for (i = 0; i < VTEV_ARRAY_SIZE(hdrs); i++) {
            struct curl_slist *l = curl_slist_append(h->headers, hdrs[i]);
            if (!l)
                goto nomem;
            h->headers = l;
        }
    }
    /* TLS */
    if (!file_readable(conf, "schema.registry.ssl.ca.location", errstr, errstr_size) ||
        !file_readable(conf, "schema.registry.ssl.certificate.location", errstr, errstr_size) ||
        !file_readable(conf, "schema.registry.ssl.key.location", errstr, errstr_size))
        goto fail;
#define DUPKEY(field, key)                                                \
    do {                                                                  \
        const char *v_ = vtev__conf_str(conf, key);                       \
        if (v_ && *v_ && !(h->field = vtev__strdup(v_)))                  \
            goto nomem;                                                   \
    } while (0)
    DUPKEY(ca, "schema.registry.ssl.ca.location");
    DUPKEY(cert, "schema.registry.ssl.certificate.location");
    DUPKEY(key, "schema.registry.ssl.key.location");
    DUPKEY(key_password, "schema.registry.ssl.key.password");
#undef DUPKEY
    if (h->key && !h->cert) {
        vtev__seterr(errstr, errstr_size,
                     "schema.registry.ssl.key.location: set without "
                     "schema.registry.ssl.certificate.location");
        goto fail;
    }
    h->verify = vtev__conf_bool(conf, "schema.registry.ssl.verify");
    h->connect_timeout_ms = (long)vtev__conf_int(conf, "schema.registry.connect.timeout.ms");
    h->request_timeout_ms = (long)vtev__conf_int(conf, "schema.registry.request.timeout.ms");
    h->base.ops = &http_ops;
    h->base.nendpoints = h->nurls;
    h->base.names = (const char *const *)h->urls;
    h->base.backoff = true;
    return &h->base;
nomem:
    vtev__seterr(errstr, errstr_size, "vtev_registry_new: out of memory");
fail:
    http_destroy(h);
    return NULL;
}

/* ---------------- easy-handle pool ---------------- */

static CURL *pool_get(vtev__http_t *h) {
    CURL *c = NULL;
    pthread_mutex_lock(&h->pool_lock);
    if (h->npool > 0)
        c = h->pool[--h->npool];
    pthread_mutex_unlock(&h->pool_lock);
    if (!c)
        c = curl_easy_init();
    return c;
}

static void pool_put(vtev__http_t *h, CURL *c) {
    pthread_mutex_lock(&h->pool_lock);
    if (h->npool == h->cappool) {
        size_t nc = h->cappool ? h->cappool * 2 : 4;
        CURL **n = realloc(h->pool, nc * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&h->pool_lock);
            curl_easy_cleanup(c);
            return;
        }
        h->pool = n;
        h->cappool = nc;
    }
    h->pool[h->npool++] = c;
    pthread_mutex_unlock(&h->pool_lock);
}

/* ---------------- one attempt ---------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool overflow;
} wbuf_t;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *opaque) {
    wbuf_t *b = opaque;
    size_t n = size * nmemb;
    if (b->len + n + 1 > MAX_BODY) {
        b->overflow = true;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        char *nb;
        while (nc < b->len + n + 1)
            nc *= 2;
        if (!(nb = realloc(b->buf, nc)))
            return 0;
        b->buf = nb;
        b->cap = nc;
    }
    memcpy(b->buf + b->len, ptr, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

static bool is_tls_error(CURLcode rc) {
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return true;
    default:
        return false;
    }
}

static const char *tls_hint(CURLcode rc) {
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return " (the server certificate is not trusted: check "
               "schema.registry.ssl.ca.location)";
    case CURLE_SSL_CERTPROBLEM:
        return " (client certificate or key unusable: check "
               "schema.registry.ssl.certificate.location, .key.location, .key.password)";
    case CURLE_SSL_CACERT_BADFILE:
        return " (check schema.registry.ssl.ca.location)";
    default:
        return "";
    }
}

/* Performs one HTTP exchange with url+path within timeout_ms. Returns
 * CURLE_*; on CURLE_OK the response is in resp. */
static CURLcode attempt(vtev__http_t *h, CURL *c, const char *url, const char *method,
                        const char *path, const char *body, int64_t timeout_ms,
                        vtev__reg_resp_t *resp, uint64_t *connectsp, char *cerr) {
    size_t n = strlen(url) + strlen(path) + 1;
    char *full = malloc(n);
    wbuf_t wb = {NULL, 0, 0, false};
    CURLcode rc;
    long status = 0;
    if (!full)
        return CURLE_OUT_OF_MEMORY;
    snprintf(full, n, "%s%s", url, path);
    curl_easy_reset(c); /* keeps the connection cache */
    cerr[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout_ms < h->connect_timeout_ms ? timeout_ms
                                                               : h->connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)(timeout_ms < h->request_timeout_ms ? timeout_ms
                                                               : h->request_timeout_ms));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "libvtevents/" VTEV_VERSION_STR);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &wb);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "GET"))
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (h->user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    }
    if (h->ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
    if (h->cert) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY, h->key ? h->key : h->cert);
        if (h->key_password)
            curl_easy_setopt(c, CURLOPT_KEYPASSWD, h->key_password);
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->verify ? 2L : 0L);
    rc = curl_easy_perform(c);
    free(full);
    {
        long nconn = 0;
        if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
            *connectsp += (uint64_t)nconn;
    }
    if (rc == CURLE_WRITE_ERROR && wb.overflow) {
        snprintf(cerr, CURL_ERROR_SIZE, "response larger than %u bytes", MAX_BODY);
        rc = CURLE_FILESIZE_EXCEEDED;
    }
    if (rc != CURLE_OK) {
        free(wb.buf);
        return rc;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    resp->status = (int)status;
    resp->body = wb.buf;
    resp->len = wb.len;
    return CURLE_OK;
}

static vtev__tx_rc_t http_exchange(vtev__transport_t *t, size_t idx, const char *method,
                                   const char *path, const char *body, int64_t timeout_ms,
                                   vtev__reg_resp_t *resp, uint64_t *connectsp, char *why,
                                   size_t why_size) {
    vtev__http_t *h = (vtev__http_t *)t;
    CURL *c = pool_get(h);
    char cerr[CURL_ERROR_SIZE];
    CURLcode rc;
    memset(resp, 0, sizeof(*resp));
    if (!c) {
        snprintf(why, why_size, "curl_easy_init failed");
        return VTEV__TX_NOMEM;
    }
    rc = attempt(h, c, h->urls[idx], method, path, body, timeout_ms, resp, connectsp, cerr);
    pool_put(h, c);
    if (rc == CURLE_OK)
        return VTEV__TX_OK;
    snprintf(why, why_size, "%s%s", cerr[0] ? cerr : curl_easy_strerror(rc),
             is_tls_error(rc) && rc != CURLE_SSL_CONNECT_ERROR ? tls_hint(rc) : "");
    if (rc == CURLE_OUT_OF_MEMORY)
        return VTEV__TX_NOMEM;
    if (rc == CURLE_SSL_CONNECT_ERROR)
        return VTEV__TX_TLS_AGAIN; /* may be a server going down mid-handshake */
    if (is_tls_error(rc))
        return VTEV__TX_TLS;
    return VTEV__TX_AGAIN;
}

static void http_transport_destroy(vtev__transport_t *t) {
    http_destroy((vtev__http_t *)t);
}

static const vtev__transport_ops_t http_ops = {http_exchange, http_transport_destroy};
