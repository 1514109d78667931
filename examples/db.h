/*
 * db.h - the database back ends of the prediction store (store.c, which
 * common.h declares as ex_store_*): SQLite (db_sqlite.c) and PostgreSQL
 * (db_pg.c).  store.c chooses one by the --db value; the SQL text, the
 * columns and the values are its, a back end only opens, binds, runs and
 * classifies failures.
 *
 * Only the programs that link store.c (prediction-persister, vt-demo) need
 * sqlite3 and libpq, and each back end can be left out of the build (meson
 * options examples_sqlite and examples_postgres): then its file is not
 * compiled and store.c is compiled with EX_HAVE_SQLITE=0 or
 * EX_HAVE_POSTGRES=0, and refuses a --db of that kind (ex_store_check()).
 * Both default to 1, for a build with every file.
 */
#ifndef EXAMPLES_DB_H
#define EXAMPLES_DB_H

#include <stdbool.h>
#include <stddef.h>

/* The values of one upsert, in the order of the statement's placeholders. */
#define EX_DB_NPARAMS 19

typedef enum ex_db_type_e { EX_DB_TEXT, EX_DB_INT, EX_DB_REAL } ex_db_type_t;
/* The SQL type of each value (a back end that binds typed values uses it). */
extern const ex_db_type_t ex_db_param_types[EX_DB_NPARAMS];

/* The CREATE TABLE IF NOT EXISTS and the upsert statement for @p table,
 * with placeholders $1.. (@p dollar, PostgreSQL) or ?1.. (SQLite). */
void ex_db_sql(const char *table, bool dollar, char *create, size_t create_size, char *upsert,
               size_t upsert_size);

typedef struct ex_db_s ex_db_t;

typedef struct ex_db_ops_s {
    /* Connects to (opens) @p target: the file path without "sqlite:", or
     * the postgresql:// URL; creates @p table (a checked identifier) when
     * missing and prepares the upsert.  NULL with errstr on failure. */
    ex_db_t *(*open)(const char *target, const char *table, char *errstr, size_t errstr_size);
    /* One upsert of EX_DB_NPARAMS values as text (NULL: SQL NULL).  0,
     * EX_STORE_ENV or EX_STORE_BAD (common.h) with errstr. */
    int (*upsert)(ex_db_t *db, const char *const *values, char *errstr, size_t errstr_size);
    /* Runs a one-column query, calling @p row for every value (NULL: SQL
     * NULL).  The number of rows, or -1 with errstr. */
    long (*query)(ex_db_t *db, const char *sql, void (*row)(const char *value, void *opaque),
                  void *opaque, char *errstr, size_t errstr_size);
    /* Closes and frees; NULL is ignored. */
    void (*close)(ex_db_t *db);
    /* Runs any statement with @p nparams text parameters (NULL: SQL NULL),
     * placeholders $1.. (PostgreSQL) or ?1.. (SQLite).  A statement that
     * returns rows calls @p row (may be NULL) with every row's columns as
     * text (NULL: SQL NULL) and returns the number of rows; any other
     * returns the number of rows it changed.  EX_STORE_ENV or EX_STORE_BAD
     * (common.h) with errstr on failure. */
    long (*exec)(ex_db_t *db, const char *sql, int nparams, const char *const *values,
                 void (*row)(int ncols, const char *const *cols, void *opaque), void *opaque,
                 char *errstr, size_t errstr_size);
    /* exec() with typed parameters (common.h: ex_param_t); NULL when the
     * back end takes text only (store.c then prints them). */
    long (*exec_typed)(ex_db_t *db, const char *sql, int nparams, const ex_param_t *params,
                       void (*row)(int ncols, const char *const *cols, void *opaque),
                       void *opaque, char *errstr, size_t errstr_size);
} ex_db_ops_t;

/* The start of every back end's handle: a back end's own struct has it as
 * its first member, so a pointer to the one is a pointer to the other. */
struct ex_db_s {
    const ex_db_ops_t *ops;
};

/* Defined only by the files compiled in; store.c uses only those. */
extern const ex_db_ops_t ex_db_sqlite; /* db_sqlite.c */
extern const ex_db_ops_t ex_db_pg;     /* db_pg.c */

#endif
