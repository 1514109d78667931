/*
 * registry_mock.c - mock://NAME: in-process Schema Registries.
 *
 * A process-wide table (guarded by a mutex) holds one registry per NAME,
 * shared by every client of that name; it lives until the process exits
 * (documented global state, see doc/threading.md). Each registry answers
 * the same Confluent REST requests as a real one (same paths, JSON bodies,
 * HTTP statuses and error codes), so the client's request building, response
 * parsing and error mapping are exercised by the unit tests.
 *
 * Compatibility is checked with Avro schema resolution (writer/reader rules of
 * the Avro specification) on schemas parsed by avro-c. avro-c's own
 * avro_resolved_writer_new() ignores reader defaults (a reader field that is
 * missing in the writer is always an error), which would reject the most
 * common evolution (adding a field with a default); so the rules are applied
 * here, with defaults read from the schema JSON.
 */
#include "avro_resolve.h"
#include "registry_transport.h"

#include <avro.h>
#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vtevents/registry.h>

typedef struct {
    int32_t id;
    char *schema; /* as first registered */
    char *canon;
} mschema_t;

typedef struct {
    int version;
    int32_t id;
    bool deleted;
} mversion_t;

typedef struct {
    char *name;
    mversion_t *v;
    size_t cnt, cap;
    int compat; /* -1: not set (global applies) */
} msubject_t;

struct vtev__mock_reg_s {
    char *name;
    pthread_mutex_t lock;
    mschema_t *schemas;
    size_t nschemas, capschemas;
    msubject_t *subjects;
    size_t nsubjects, capsubjects;
    int global_compat;
    int inject_cnt, inject_status;
    char *inject_body; /* NULL: a JSON error body */
    bool inject_raw;
    struct vtev__mock_reg_s *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static vtev__mock_reg_t *table;

vtev__mock_reg_t *vtev__mock_registry_get(const char *name) {
    vtev__mock_reg_t *m;
    pthread_mutex_lock(&table_lock);
    for (m = table; m; m = m->next)
        if (!strcmp(m->name, name))
            break;
    if (!m && (m = calloc(1, sizeof(*m)))) {
        if (!(m->name = vtev__strdup(name))) {
            free(m);
            m = NULL;
        } else {
            pthread_mutex_init(&m->lock, NULL);
            m->global_compat = VTEV_COMPAT_BACKWARD; /* Confluent's default */
            m->next = table;
            table = m;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return m;
}

static void inject(const char *name, int cnt, int status, bool raw, const char *body) {
    vtev__mock_reg_t *m = vtev__mock_registry_get(name);
    char *copy = raw && body ? vtev__strdup(body) : NULL;
    if (!m || (raw && body && !copy)) {
        free(copy);
        return;
    }
    pthread_mutex_lock(&m->lock);
    m->inject_cnt = cnt;
    m->inject_status = status;
    m->inject_raw = raw;
    free(m->inject_body);
    m->inject_body = copy;
    pthread_mutex_unlock(&m->lock);
}

void vtev__mock_registry_inject(const char *name, int cnt, int status) {
    inject(name, cnt, status, false, NULL);
}

void vtev__mock_registry_inject_raw(const char *name, int cnt, int status, const char *body) {
    inject(name, cnt, status, true, body);
}

/* ---------------- responses ---------------- */

static vtev_err_t respond_json(vtev__reg_resp_t *resp, int status, json_t *j) {
    resp->status = status;
    if (!j)
        return VTEV_ERR_NOMEM;
    resp->body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (!resp->body)
        return VTEV_ERR_NOMEM;
    resp->len = strlen(resp->body);
    return VTEV_ERR_OK;
}

static vtev_err_t respond_err(vtev__reg_resp_t *resp, int code, const char *fmt, ...)
    VTEV_PRINTF(3, 4);
static vtev_err_t respond_err(vtev__reg_resp_t *resp, int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return respond_json(resp, code >= 10000 ? code / 100 : code,
                        json_pack("{s:i,s:s}", "error_code", code, "message", msg));
}

/* ---------------- data helpers (lock held) ---------------- */

static msubject_t *subject_find(vtev__mock_reg_t *m, const char *name) {
    size_t i;
    for (i = 0; i < m->nsubjects; i++)
        if (!strcmp(m->subjects[i].name, name))
            return &m->subjects[i];
    return NULL;
}

/* Appends an empty subject (no versions, no level of its own); NULL on ENOMEM. */
static msubject_t *subject_add(vtev__mock_reg_t *m, const char *name) {
    msubject_t *s;
    if (m->nsubjects == m->capsubjects) {
        size_t nc = m->capsubjects ? m->capsubjects * 2 : 16;
        msubject_t *n = realloc(m->subjects, nc * sizeof(*n));
        if (!n)
            return NULL;
        m->subjects = n;
        m->capsubjects = nc;
    }
    s = &m->subjects[m->nsubjects];
    memset(s, 0, sizeof(*s));
    if (!(s->name = vtev__strdup(name)))
        return NULL;
    s->compat = -1;
    m->nsubjects++;
    return s;
}

static bool subject_live(const msubject_t *s) {
    size_t i;
    for (i = 0; i < s->cnt; i++)
        if (!s->v[i].deleted)
            return true;
    return false;
}

static mschema_t *schema_by_id(vtev__mock_reg_t *m, int32_t id) {
    if (id < 1 || (size_t)id > m->nschemas)
        return NULL;
    return &m->schemas[id - 1];
}

static mschema_t *schema_by_canon(vtev__mock_reg_t *m, const char *canon) {
    size_t i;
    for (i = 0; i < m->nschemas; i++)
        if (!strcmp(m->schemas[i].canon, canon))
            return &m->schemas[i];
    return NULL;
}

static mversion_t *version_find(msubject_t *s, int version, bool include_deleted) {
    size_t i;
    if (version == -1) {
        for (i = s->cnt; i > 0; i--)
            if (include_deleted || !s->v[i - 1].deleted)
                return &s->v[i - 1];
        return NULL;
    }
    for (i = 0; i < s->cnt; i++)
        if (s->v[i].version == version && (include_deleted || !s->v[i].deleted))
            return &s->v[i];
    return NULL;
}

/* ---------------- Avro resolution ---------------- */

/* 0 when json is a valid Avro schema; -1 with why set.  The resolution
 * module's parser, not avro-c's (whose error text is shared by threads). */
/* VTEV_ERR_OK, VTEV_ERR_NOMEM (the mock's trouble, not the schema's) or
 * the schema's error (why set). */
static vtev_err_t parse_avro(const char *json, char *why, size_t whysz) {
    return vtev__avro_schema_check(json, NULL, why, whysz);
}

/* 1 when reader_json can read every datum written with writer_json: the
 * resolution module the decoders use (full names, aliases, defaults, enum
 * defaults, promotions), in its strict mode. */
static int readable(const char *writer_json, const char *reader_json, char *why, size_t whysz) {
    return vtev__avro_can_read(writer_json, reader_json, why, whysz);
}

/* Checks candidate against existing schema per level (non-transitive part).
 * Returns 1 compatible, 0 not (why set). */
static int compat_pair(int level, const char *existing, const char *candidate, char *why,
                       size_t whysz) {
    switch (level) {
    case VTEV_COMPAT_BACKWARD:
    case VTEV_COMPAT_BACKWARD_TRANSITIVE:
        return readable(existing, candidate, why, whysz);
    case VTEV_COMPAT_FORWARD:
    case VTEV_COMPAT_FORWARD_TRANSITIVE:
        return readable(candidate, existing, why, whysz);
    case VTEV_COMPAT_FULL:
    case VTEV_COMPAT_FULL_TRANSITIVE:
        return readable(existing, candidate, why, whysz) &&
               readable(candidate, existing, why, whysz);
    default:
        return 1;
    }
}

static bool level_transitive(int level) {
    return level == VTEV_COMPAT_BACKWARD_TRANSITIVE || level == VTEV_COMPAT_FORWARD_TRANSITIVE ||
           level == VTEV_COMPAT_FULL_TRANSITIVE;
}

/* Checks candidate against the subject's live versions per its level (only
 * against `only` when only != NULL). */
static int compat_subject(vtev__mock_reg_t *m, msubject_t *s, const char *candidate,
                          const mversion_t *only, char *why, size_t whysz) {
    int level = s->compat >= 0 ? s->compat : m->global_compat;
    size_t i;
    if (level == VTEV_COMPAT_NONE)
        return 1;
    if (only)
        return compat_pair(level, schema_by_id(m, only->id)->schema, candidate, why, whysz);
    for (i = s->cnt; i > 0; i--) {
        mversion_t *v = &s->v[i - 1];
        if (v->deleted)
            continue;
        if (!compat_pair(level, schema_by_id(m, v->id)->schema, candidate, why, whysz))
            return 0;
        if (!level_transitive(level))
            break;
    }
    return 1;
}

/* ---------------- operations (lock held) ---------------- */

/* Parses {"schema": "..."}; validates the schema with avro-c. On failure
 * responds (42201 or 400) and returns NULL. */
static const char *body_schema(json_t *body, vtev__reg_resp_t *resp, vtev_err_t *errp) {
    const char *schema = json_string_value(json_object_get(body, "schema"));
    const char *stype = json_string_value(json_object_get(body, "schemaType"));
    char why[512];
    if (!schema) {
        *errp = respond_err(resp, 42201, "Invalid schema: the request has no \"schema\" string");
        return NULL;
    }
    if (stype && strcmp(stype, "AVRO")) {
        *errp = respond_err(resp, 42201, "Invalid schema: schemaType %s is not supported by "
                                         "the mock registry", stype);
        return NULL;
    }
    switch (parse_avro(schema, why, sizeof(why))) {
    case VTEV_ERR_OK:
        break;
    case VTEV_ERR_NOMEM: /* a server error, as a real registry answers it: retriable */
        *errp = respond_err(resp, 50001, "Error in the backend data store: out of memory");
        return NULL;
    default:
        *errp = respond_err(resp, 42201, "Invalid schema %s: %s", schema, why);
        return NULL;
    }
    return schema;
}

static vtev_err_t op_register(vtev__mock_reg_t *m, const char *subject, json_t *body,
                              vtev__reg_resp_t *resp) {
    vtev_err_t err = VTEV_ERR_OK;
    const char *schema = body_schema(body, resp, &err);
    char *canon;
    mschema_t *ms;
    msubject_t *s;
    mversion_t *last;
    char why[512] = "";
    size_t i;
    if (!schema)
        return err;
    if (!(canon = vtev__schema_canonical(schema)))
        return VTEV_ERR_NOMEM;
    ms = schema_by_canon(m, canon);
    s = subject_find(m, subject);
    if (s && ms) {
        for (i = 0; i < s->cnt; i++) {
            if (!s->v[i].deleted && s->v[i].id == ms->id) {
                free(canon);
                return respond_json(resp, 200, json_pack("{s:i}", "id", (int)ms->id));
            }
        }
    }
    if (s && !compat_subject(m, s, schema, NULL, why, sizeof(why))) {
        free(canon);
        return respond_err(resp, 409,
                           "Schema being registered is incompatible with an earlier schema "
                           "for subject \"%s\", details: %s",
                           subject, why);
    }
    if (!ms) {
        if (m->nschemas == m->capschemas) {
            size_t nc = m->capschemas ? m->capschemas * 2 : 16;
            mschema_t *n = realloc(m->schemas, nc * sizeof(*n));
            if (!n) {
                free(canon);
                return VTEV_ERR_NOMEM;
            }
            m->schemas = n;
            m->capschemas = nc;
        }
        ms = &m->schemas[m->nschemas];
        if (!(ms->schema = vtev__strdup(schema))) {
            free(canon);
            return VTEV_ERR_NOMEM;
        }
        ms->canon = canon;
        ms->id = (int32_t)(m->nschemas + 1);
        m->nschemas++;
    } else {
        free(canon);
    }
    if (!s && !(s = subject_add(m, subject)))
        return VTEV_ERR_NOMEM;
    if (s->cnt == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        mversion_t *n = realloc(s->v, nc * sizeof(*n));
        if (!n)
            return VTEV_ERR_NOMEM;
        s->v = n;
        s->cap = nc;
    }
    last = version_find(s, -1, true);
    s->v[s->cnt].version = last ? last->version + 1 : 1;
    s->v[s->cnt].id = ms->id;
    s->v[s->cnt].deleted = false;
    s->cnt++;
    return respond_json(resp, 200, json_pack("{s:i}", "id", (int)ms->id));
}

static json_t *version_json(vtev__mock_reg_t *m, msubject_t *s, mversion_t *v) {
    return json_pack("{s:s,s:i,s:i,s:s}", "subject", s->name, "version", v->version, "id",
                     (int)v->id, "schema", schema_by_id(m, v->id)->schema);
}

static vtev_err_t op_lookup(vtev__mock_reg_t *m, const char *subject, json_t *body,
                            vtev__reg_resp_t *resp) {
    vtev_err_t err = VTEV_ERR_OK;
    const char *schema;
    msubject_t *s = subject_find(m, subject);
    mschema_t *ms;
    char *canon;
    size_t i;
    if (!s || !subject_live(s))
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!(schema = body_schema(body, resp, &err)))
        return err;
    if (!(canon = vtev__schema_canonical(schema)))
        return VTEV_ERR_NOMEM;
    ms = schema_by_canon(m, canon);
    free(canon);
    if (ms)
        for (i = s->cnt; i > 0; i--)
            if (!s->v[i - 1].deleted && s->v[i - 1].id == ms->id)
                return respond_json(resp, 200, version_json(m, s, &s->v[i - 1]));
    return respond_err(resp, 40403, "Schema not found");
}

/* "latest", "-1" or a positive integer; 0 when invalid. */
static int parse_version(const char *v, int *out) {
    char *end;
    long n;
    if (!strcmp(v, "latest") || !strcmp(v, "-1")) {
        *out = -1;
        return 1;
    }
    n = strtol(v, &end, 10);
    if (*end || end == v || n < 1 || n > 2147483647L)
        return 0;
    *out = (int)n;
    return 1;
}

static vtev_err_t op_get_version(vtev__mock_reg_t *m, const char *subject, const char *vs,
                                 vtev__reg_resp_t *resp) {
    msubject_t *s = subject_find(m, subject);
    mversion_t *v;
    int version;
    if (!s || !subject_live(s))
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!parse_version(vs, &version))
        return respond_err(resp, 42202,
                           "The specified version '%s' is not a valid version id. Allowed "
                           "values are between [1, 2^31-1] and the string \"latest\"",
                           vs);
    if (!(v = version_find(s, version, false)))
        return respond_err(resp, 40402, "Version %s not found.", vs);
    return respond_json(resp, 200, version_json(m, s, v));
}

static vtev_err_t op_list_versions(vtev__mock_reg_t *m, const char *subject,
                                   vtev__reg_resp_t *resp) {
    msubject_t *s = subject_find(m, subject);
    json_t *a;
    size_t i;
    if (!s || !subject_live(s))
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!(a = json_array()))
        return VTEV_ERR_NOMEM;
    for (i = 0; i < s->cnt; i++)
        if (!s->v[i].deleted && json_array_append_new(a, json_integer(s->v[i].version))) {
            json_decref(a);
            return VTEV_ERR_NOMEM;
        }
    return respond_json(resp, 200, a);
}

static vtev_err_t op_list_subjects(vtev__mock_reg_t *m, vtev__reg_resp_t *resp) {
    json_t *a = json_array();
    size_t i;
    if (!a)
        return VTEV_ERR_NOMEM;
    for (i = 0; i < m->nsubjects; i++)
        if (subject_live(&m->subjects[i]) &&
            json_array_append_new(a, json_string(m->subjects[i].name))) {
            json_decref(a);
            return VTEV_ERR_NOMEM;
        }
    return respond_json(resp, 200, a);
}

static void subject_remove(vtev__mock_reg_t *m, msubject_t *s) {
    size_t idx = (size_t)(s - m->subjects);
    free(s->name);
    free(s->v);
    memmove(&m->subjects[idx], &m->subjects[idx + 1],
            (m->nsubjects - idx - 1) * sizeof(*s));
    m->nsubjects--;
}

static vtev_err_t op_delete_version(vtev__mock_reg_t *m, const char *subject, const char *vs,
                                    bool permanent, vtev__reg_resp_t *resp) {
    msubject_t *s = subject_find(m, subject);
    mversion_t *v;
    int version, num;
    if (!s || (!permanent && !subject_live(s)))
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!parse_version(vs, &version))
        return respond_err(resp, 42202, "The specified version '%s' is not a valid version id.",
                           vs);
    if (!(v = version_find(s, version, permanent)))
        return respond_err(resp, 40402, "Version %s not found.", vs);
    num = v->version;
    if (!permanent) {
        v->deleted = true;
    } else {
        if (!v->deleted)
            return respond_err(resp, 40407,
                               "Subject '%s' Version %d was not deleted first before being "
                               "permanently deleted",
                               subject, num);
        memmove(v, v + 1, (size_t)(&s->v[s->cnt] - (v + 1)) * sizeof(*v));
        s->cnt--;
        if (s->cnt == 0)
            subject_remove(m, s);
    }
    return respond_json(resp, 200, json_integer(num));
}

static vtev_err_t op_delete_subject(vtev__mock_reg_t *m, const char *subject, bool permanent,
                                    vtev__reg_resp_t *resp) {
    msubject_t *s = subject_find(m, subject);
    json_t *a;
    size_t i;
    if (!s)
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!permanent && !subject_live(s))
        return respond_err(resp, 40404, "Subject '%s' was soft deleted.Set permanent=true to "
                                        "delete permanently", subject);
    if (permanent && subject_live(s))
        return respond_err(resp, 40405,
                           "Subject '%s' was not deleted first before being permanently "
                           "deleted",
                           subject);
    if (!(a = json_array()))
        return VTEV_ERR_NOMEM;
    for (i = 0; i < s->cnt; i++) {
        if (permanent || !s->v[i].deleted) {
            if (json_array_append_new(a, json_integer(s->v[i].version))) {
                json_decref(a);
                return VTEV_ERR_NOMEM;
            }
        }
        s->v[i].deleted = true;
    }
    if (permanent)
        subject_remove(m, s);
    return respond_json(resp, 200, a);
}

static vtev_err_t op_test_compat(vtev__mock_reg_t *m, const char *subject, const char *vs,
                                 json_t *body, vtev__reg_resp_t *resp) {
    vtev_err_t err = VTEV_ERR_OK;
    msubject_t *s = subject_find(m, subject);
    const char *schema;
    mversion_t *v = NULL;
    int version, ok;
    char why[512] = "";
    json_t *r;
    if (!s || !subject_live(s))
        return respond_err(resp, 40401, "Subject '%s' not found.", subject);
    if (!parse_version(vs, &version))
        return respond_err(resp, 42202, "The specified version '%s' is not a valid version id.",
                           vs);
    if (!(v = version_find(s, version, false)))
        return respond_err(resp, 40402, "Version %s not found.", vs);
    if (!(schema = body_schema(body, resp, &err)))
        return err;
    ok = compat_subject(m, s, schema, version == -1 ? NULL : v, why, sizeof(why));
    r = json_pack("{s:b}", "is_compatible", ok);
    if (r && !ok)
        json_object_set_new(r, "messages", json_pack("[s]", why));
    return respond_json(resp, 200, r);
}

static vtev_err_t op_get_config(vtev__mock_reg_t *m, const char *subject, bool def_global,
                                vtev__reg_resp_t *resp) {
    int level = m->global_compat;
    if (subject) {
        msubject_t *s = subject_find(m, subject);
        if (s && s->compat >= 0)
            level = s->compat;
        else if (!def_global)
            return respond_err(resp, 40408, "Subject '%s' does not have subject-level "
                                            "compatibility configured", subject);
    }
    return respond_json(resp, 200,
                        json_pack("{s:s}", "compatibilityLevel", vtev_compat_level_name(level)));
}

static vtev_err_t op_set_config(vtev__mock_reg_t *m, const char *subject, json_t *body,
                                vtev__reg_resp_t *resp) {
    const char *name = json_string_value(json_object_get(body, "compatibility"));
    vtev_compat_level_t level;
    if (!name || vtev_compat_level_parse(name, &level) != VTEV_ERR_OK)
        return respond_err(resp, 42203, "Invalid compatibility level. Valid values are none, "
                                        "backward, forward, full, backward_transitive, "
                                        "forward_transitive, and full_transitive");
    if (subject) {
        msubject_t *s = subject_find(m, subject);
        if (!s) {
            /* A level may be set before the subject has versions. */
            if (!(s = subject_add(m, subject)))
                return VTEV_ERR_NOMEM;
        }
        s->compat = (int)level;
    } else {
        m->global_compat = (int)level;
    }
    return respond_json(resp, 200,
                        json_pack("{s:s}", "compatibility", vtev_compat_level_name(level)));
}

/* ---------------- routing ---------------- */

/* Decodes the percent-encoding of one path segment in place, with libcurl
 * (the result is never longer; a %00 ends the segment). 0, or -1 when out
 * of memory. */
static int url_unescape(char *s) {
    size_t len = strlen(s);
    int n = 0;
    char *d;
    if (len > INT_MAX || !(d = curl_easy_unescape(NULL, s, (int)len, &n)))
        return -1;
    memcpy(s, d, strlen(d) + 1);
    curl_free(d);
    return 0;
}

vtev_err_t vtev__mock_registry_request(vtev__mock_reg_t *m, const char *method,
                                       const char *path, const char *body,
                                       vtev__reg_resp_t *resp) {
    char *p, *query, *seg[6];
    size_t nseg = 0;
    json_t *jb = NULL;
    vtev_err_t err;
    bool permanent = false, def_global = false;
    memset(resp, 0, sizeof(*resp));
    if (!(p = vtev__strdup(path)))
        return VTEV_ERR_NOMEM;
    if ((query = strchr(p, '?'))) {
        *query++ = '\0';
        permanent = strstr(query, "permanent=true") != NULL;
        def_global = strstr(query, "defaultToGlobal=true") != NULL;
    }
    {
        char *s = p, *tok;
        while (*s == '/')
            s++;
        while (s && *s && nseg < VTEV_ARRAY_SIZE(seg)) {
            tok = s;
            if ((s = strchr(s, '/')))
                *s++ = '\0';
            if (url_unescape(tok) < 0) {
                free(p);
                return VTEV_ERR_NOMEM;
            }
            seg[nseg++] = tok;
        }
        if (s && *s)
            nseg = VTEV_ARRAY_SIZE(seg) + 1; /* too deep: no route */
    }
    if (body && *body)
        jb = json_loads(body, 0, NULL);

    pthread_mutex_lock(&m->lock);
    if (m->inject_cnt > 0 && m->inject_raw) {
        m->inject_cnt--;
        resp->status = m->inject_status;
        err = VTEV_ERR_OK;
        if (m->inject_body) {
            if ((resp->body = vtev__strdup(m->inject_body)))
                resp->len = strlen(resp->body);
            else
                err = VTEV_ERR_NOMEM;
        }
    } else if (m->inject_cnt > 0) {
        m->inject_cnt--;
        err = respond_err(resp, m->inject_status * 100 + 1, "injected failure: HTTP %d",
                          m->inject_status);
        resp->status = m->inject_status;
    }
#define IS(i, s) (nseg > (i) && !strcmp(seg[i], (s)))
#define M(s) (!strcmp(method, (s)))
    else if (body && *body && !jb)
        err = respond_err(resp, 400, "Unrecognized JSON in the request body");
    else if (nseg == 1 && IS(0, "subjects") && M("GET"))
        err = op_list_subjects(m, resp);
    else if (nseg == 2 && IS(0, "subjects") && M("POST"))
        err = op_lookup(m, seg[1], jb, resp);
    else if (nseg == 2 && IS(0, "subjects") && M("DELETE"))
        err = op_delete_subject(m, seg[1], permanent, resp);
    else if (nseg == 3 && IS(0, "subjects") && IS(2, "versions") && M("GET"))
        err = op_list_versions(m, seg[1], resp);
    else if (nseg == 3 && IS(0, "subjects") && IS(2, "versions") && M("POST"))
        err = op_register(m, seg[1], jb, resp);
    else if (nseg == 4 && IS(0, "subjects") && IS(2, "versions") && M("GET"))
        err = op_get_version(m, seg[1], seg[3], resp);
    else if (nseg == 4 && IS(0, "subjects") && IS(2, "versions") && M("DELETE"))
        err = op_delete_version(m, seg[1], seg[3], permanent, resp);
    else if (nseg == 3 && IS(0, "schemas") && IS(1, "ids") && M("GET")) {
        char *end;
        long id = strtol(seg[2], &end, 10);
        mschema_t *ms = (*end || end == seg[2]) ? NULL : schema_by_id(m, (int32_t)id);
        if (ms)
            err = respond_json(resp, 200, json_pack("{s:s}", "schema", ms->schema));
        else
            err = respond_err(resp, 40403, "Schema %s not found", seg[2]);
    } else if (nseg == 5 && IS(0, "compatibility") && IS(1, "subjects") && IS(3, "versions") &&
               M("POST"))
        err = op_test_compat(m, seg[2], seg[4], jb, resp);
    else if (nseg <= 2 && IS(0, "config") && M("GET"))
        err = op_get_config(m, nseg == 2 ? seg[1] : NULL, def_global, resp);
    else if (nseg <= 2 && IS(0, "config") && M("PUT"))
        err = op_set_config(m, nseg == 2 ? seg[1] : NULL, jb, resp);
    else
        err = respond_err(resp, 404, "HTTP 404 Not Found: %s %s", method, path);
#undef IS
#undef M
    pthread_mutex_unlock(&m->lock);
    json_decref(jb);
    free(p);
    if (err != VTEV_ERR_OK)
        vtev__reg_resp_clear(resp);
    return err;
}

/* ---------------- transport ---------------- */

typedef struct {
    vtev__transport_t base; /* first: the transport head */
    vtev__mock_reg_t *m;
    char *name; /* "mock://NAME" */
} mock_tx_t;

static vtev__tx_rc_t mock_exchange(vtev__transport_t *t, size_t idx, const char *method,
                                   const char *path, const char *body, int64_t timeout_ms,
                                   vtev__reg_resp_t *resp, uint64_t *connectsp, char *why,
                                   size_t why_size) {
    (void)idx;
    (void)timeout_ms;
    (void)connectsp;
    if (vtev__mock_registry_request(((mock_tx_t *)t)->m, method, path, body, resp)) {
        snprintf(why, why_size, "out of memory");
        return VTEV__TX_NOMEM;
    }
    return VTEV__TX_OK;
}

static void mock_destroy(vtev__transport_t *t) {
    mock_tx_t *mt = (mock_tx_t *)t;
    if (!mt)
        return;
    free(mt->name); /* the registry itself lives until the process exits */
    free(mt);
}

static const vtev__transport_ops_t mock_ops = {mock_exchange, mock_destroy};

vtev__transport_t *vtev__mock_transport_new(const char *name) {
    mock_tx_t *mt = calloc(1, sizeof(*mt));
    size_t n = strlen(name) + 8;
    if (!mt || !(mt->m = vtev__mock_registry_get(name)) || !(mt->name = malloc(n))) {
        free(mt);
        return NULL;
    }
    snprintf(mt->name, n, "mock://%s", name);
    mt->base.ops = &mock_ops;
    mt->base.nendpoints = 1;
    mt->base.names = (const char *const *)&mt->name;
    mt->base.backoff = false; /* in-process: nothing to wait for */
    return &mt->base;
}
