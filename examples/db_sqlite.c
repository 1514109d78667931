/*
 * db_sqlite.c - the SQLite back end of the prediction store (db.h): a file,
 * in WAL mode, with a busy timeout of 10 s; the upsert is a prepared
 * statement bound with typed values.
 */
#include "common.h"
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LITE_CACHE 32

typedef struct lite_s {
    ex_db_t base; /* first: see db.h */
    sqlite3 *db;
    sqlite3_stmt *upsert;
    /* exec()'s prepared statements, by SQL text (the callers' few fixed ones) */
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[LITE_CACHE];
    size_t cached;
} lite_t;

static void lite_close(ex_db_t *h) {
    lite_t *l = (lite_t *)h;
    if (!l)
        return;
    if (l->upsert)
        sqlite3_finalize(l->upsert);
    while (l->cached > 0) {
        l->cached--;
        sqlite3_finalize(l->cache[l->cached].st);
        free(l->cache[l->cached].sql);
    }
    if (l->db)
        sqlite3_close(l->db);
    free(l);
}

static ex_db_t *lite_open(const char *path, const char *table, char *errstr, size_t errstr_size) {
    char create[2048], upsert[4096];
    char *msg = NULL;
    lite_t *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    l->base.ops = &ex_db_sqlite;
    if (sqlite3_open(path, &l->db) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "sqlite %s: %s", path,
                 l->db ? sqlite3_errmsg(l->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(l->db, 10000);
    ex_db_sql(table, false, create, sizeof(create), upsert, sizeof(upsert));
    if (sqlite3_exec(l->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     &msg) != SQLITE_OK ||
        sqlite3_exec(l->db, create, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "sqlite %s: %s", path, msg ? msg : "error");
        sqlite3_free(msg);
        goto fail;
    }
    if (sqlite3_prepare_v2(l->db, upsert, -1, &l->upsert, NULL) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "sqlite %s: %s", path, sqlite3_errmsg(l->db));
        goto fail;
    }
    return &l->base;
fail:
    lite_close(&l->base);
    return NULL;
}

/* Whether an SQLite failure is about the row (EX_STORE_BAD) or the database. */
static int lite_class(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return EX_STORE_BAD;
    default:
        return EX_STORE_ENV;
    }
}

static int lite_upsert(ex_db_t *h, const char *const *v, char *errstr, size_t errstr_size) {
    lite_t *l = (lite_t *)h;
    int i, rc;
    sqlite3_reset(l->upsert);
    for (i = 0; i < EX_DB_NPARAMS; i++) {
        if (!v[i])
            rc = sqlite3_bind_null(l->upsert, i + 1);
        else if (ex_db_param_types[i] == EX_DB_INT)
            rc = sqlite3_bind_int64(l->upsert, i + 1, strtoll(v[i], NULL, 10));
        else if (ex_db_param_types[i] == EX_DB_REAL)
            rc = sqlite3_bind_double(l->upsert, i + 1, strtod(v[i], NULL));
        else
            rc = sqlite3_bind_text(l->upsert, i + 1, v[i], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite: bind: %s", sqlite3_errmsg(l->db));
            return lite_class(rc);
        }
    }
    rc = sqlite3_step(l->upsert);
    if (rc != SQLITE_DONE) {
        snprintf(errstr, errstr_size, "sqlite: upsert: %s", sqlite3_errmsg(l->db));
        sqlite3_reset(l->upsert);
        return lite_class(rc);
    }
    sqlite3_reset(l->upsert);
    return 0;
}

static long lite_query(ex_db_t *h, const char *sql, void (*row)(const char *, void *),
                       void *opaque, char *errstr, size_t errstr_size) {
    lite_t *l = (lite_t *)h;
    sqlite3_stmt *st;
    long n = 0;
    int rc;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(l->db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row((const char *)sqlite3_column_text(st, 0), opaque);
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(l->db));
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

/* The cached statement for @p sql (prepared on first use; a statement
 * beyond the cache's size is prepared each time: *owned set). */
static sqlite3_stmt *lite_stmt(lite_t *l, const char *sql, bool *owned, char *errstr,
                               size_t errstr_size) {
    sqlite3_stmt *st = NULL;
    size_t i;
    *owned = false;
    for (i = 0; i < l->cached; i++)
        if (!strcmp(l->cache[i].sql, sql))
            return l->cache[i].st;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(l->db));
        return NULL;
    }
    if (l->cached < LITE_CACHE && (l->cache[l->cached].sql = strdup(sql))) {
        l->cache[l->cached++].st = st;
        return st;
    }
    *owned = true;
    return st;
}

/* exec() and exec_typed(): the parameters as text (@p v) or typed (@p p). */
static long lite_run(lite_t *l, const char *sql, int nparams, const char *const *v,
                     const ex_param_t *p, void (*row)(int, const char *const *, void *),
                     void *opaque, char *errstr, size_t errstr_size) {
    const char *cols[32];
    bool owned;
    sqlite3_stmt *st = lite_stmt(l, sql, &owned, errstr, errstr_size);
    long n = 0;
    int i, rc, ncols;
    if (!st)
        return EX_STORE_ENV;
    ncols = sqlite3_column_count(st);
    if (ncols > 32)
        ncols = 32;
    /* SQLITE_STATIC: the values outlive the statement's run, and the
     * bindings are cleared below (no copy, no allocation per value) */
    for (i = 0; i < nparams; i++) {
        if (p)
            rc = p[i].type == EX_P_TEXT ? sqlite3_bind_text(st, i + 1, p[i].text, -1, SQLITE_STATIC)
                 : p[i].type == EX_P_REAL ? sqlite3_bind_double(st, i + 1, p[i].real)
                 : p[i].type == EX_P_INT  ? sqlite3_bind_int64(st, i + 1, p[i].i)
                                          : sqlite3_bind_null(st, i + 1);
        else
            rc = v[i] ? sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC)
                      : sqlite3_bind_null(st, i + 1);
        if (rc != SQLITE_OK) {
            snprintf(errstr, errstr_size, "sqlite: bind: %s", sqlite3_errmsg(l->db));
            n = lite_class(rc);
            goto out;
        }
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < ncols; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        if (row)
            row(ncols, cols, opaque);
        n++;
    }
    if (rc != SQLITE_DONE) {
        snprintf(errstr, errstr_size, "sqlite: %s", sqlite3_errmsg(l->db));
        n = lite_class(rc);
    } else if (ncols == 0) {
        n = sqlite3_changes(l->db);
    }
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (owned)
        sqlite3_finalize(st);
    return n;
}

static long lite_exec(ex_db_t *h, const char *sql, int nparams, const char *const *v,
                      void (*row)(int, const char *const *, void *), void *opaque, char *errstr,
                      size_t errstr_size) {
    return lite_run((lite_t *)h, sql, nparams, v, NULL, row, opaque, errstr, errstr_size);
}

static long lite_exec_typed(ex_db_t *h, const char *sql, int nparams, const ex_param_t *p,
                            void (*row)(int, const char *const *, void *), void *opaque,
                            char *errstr, size_t errstr_size) {
    return lite_run((lite_t *)h, sql, nparams, NULL, p, row, opaque, errstr, errstr_size);
}

const ex_db_ops_t ex_db_sqlite = {lite_open,  lite_upsert, lite_query,
                                  lite_close, lite_exec,   lite_exec_typed};
