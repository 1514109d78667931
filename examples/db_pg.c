/*
 * db_pg.c - the PostgreSQL back end of the prediction store (db.h): one
 * connection (libpq, a postgresql:// URL), the upsert a prepared statement
 * with text parameters.  A lost connection is reset (and the statement
 * prepared again) on the next upsert.
 */
#include "common.h"
#include "db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_s {
    ex_db_t base; /* first: see db.h */
    PGconn *conn;
    char table[64];
} pg_t;

static int pg_prepare(pg_t *p, char *errstr, size_t errstr_size) {
    char create[2048], upsert[4096];
    PGresult *r;
    ex_db_sql(p->table, true, create, sizeof(create), upsert, sizeof(upsert));
    r = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(r);
    r = PQexec(p->conn, create);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errstr_size, "postgresql: create table: %s", PQerrorMessage(p->conn));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    r = PQprepare(p->conn, "upsert", upsert, EX_DB_NPARAMS, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errstr_size, "postgresql: prepare: %s", PQerrorMessage(p->conn));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static void pg_close(ex_db_t *h) {
    pg_t *p = (pg_t *)h;
    if (!p)
        return;
    if (p->conn)
        PQfinish(p->conn);
    free(p);
}

static ex_db_t *pg_open(const char *url, const char *table, char *errstr, size_t errstr_size) {
    pg_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->base.ops = &ex_db_pg;
    snprintf(p->table, sizeof(p->table), "%s", table);
    p->conn = PQconnectdb(url);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(p->conn));
        goto fail;
    }
    if (pg_prepare(p, errstr, errstr_size))
        goto fail;
    return &p->base;
fail:
    pg_close(&p->base);
    return NULL;
}

static int pg_upsert(ex_db_t *h, const char *const *v, char *errstr, size_t errstr_size) {
    pg_t *p = (pg_t *)h;
    PGresult *res;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        PQreset(p->conn);
        if (PQstatus(p->conn) != CONNECTION_OK || pg_prepare(p, errstr, errstr_size)) {
            snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(p->conn));
            return EX_STORE_ENV;
        }
    }
    res = PQexecPrepared(p->conn, "upsert", EX_DB_NPARAMS, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* class 22 (data exception) and 23 (integrity constraint
         * violation) are about this row; the rest is the database */
        int rc = state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)) ? EX_STORE_BAD
                                                                                 : EX_STORE_ENV;
        snprintf(errstr, errstr_size, "postgresql: upsert: SQLSTATE %s: %s",
                 state ? state : "none", PQerrorMessage(p->conn));
        PQclear(res);
        return rc;
    }
    PQclear(res);
    return 0;
}

static long pg_query(ex_db_t *h, const char *sql, void (*row)(const char *, void *), void *opaque,
                     char *errstr, size_t errstr_size) {
    pg_t *p = (pg_t *)h;
    PGresult *r = PQexec(p->conn, sql);
    long n = 0;
    int i;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(p->conn));
        PQclear(r);
        return -1;
    }
    for (i = 0; i < PQntuples(r); i++, n++)
        row(PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0), opaque);
    PQclear(r);
    return n;
}

static long pg_exec(ex_db_t *h, const char *sql, int nparams, const char *const *v,
                    void (*row)(int, const char *const *, void *), void *opaque, char *errstr,
                    size_t errstr_size) {
    pg_t *p = (pg_t *)h;
    PGresult *r;
    ExecStatusType es;
    long n = 0;
    int i, j, ncols;
    const char *cols[32];
    if (PQstatus(p->conn) != CONNECTION_OK) {
        PQreset(p->conn);
        if (PQstatus(p->conn) != CONNECTION_OK || pg_prepare(p, errstr, errstr_size)) {
            snprintf(errstr, errstr_size, "postgresql: %s", PQerrorMessage(p->conn));
            return EX_STORE_ENV;
        }
    }
    r = PQexecParams(p->conn, sql, nparams, NULL, v, NULL, NULL, 0);
    es = PQresultStatus(r);
    if (es == PGRES_TUPLES_OK) {
        ncols = PQnfields(r) > 32 ? 32 : PQnfields(r);
        for (i = 0; i < PQntuples(r); i++, n++) {
            for (j = 0; j < ncols; j++)
                cols[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
            if (row)
                row(ncols, cols, opaque);
        }
    } else if (es == PGRES_COMMAND_OK) {
        n = *PQcmdTuples(r) ? strtol(PQcmdTuples(r), NULL, 10) : 0;
    } else {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        n = state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2)) ? EX_STORE_BAD
                                                                          : EX_STORE_ENV;
        snprintf(errstr, errstr_size, "postgresql: SQLSTATE %s: %s", state ? state : "none",
                 PQerrorMessage(p->conn));
    }
    PQclear(r);
    return n;
}

const ex_db_ops_t ex_db_pg = {pg_open, pg_upsert, pg_query, pg_close, pg_exec, NULL};
