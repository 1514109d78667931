/*
 * append_shim.c - an LD_PRELOAD module for test_tools_unit.sh: when the tool
 * creates its producer (after strict mode has validated the input, before it
 * publishes), appends the line $VT_SHIM_APPEND_LINE to the file
 * $VT_SHIM_APPEND_FILE, as another program appending to the input file at
 * that moment would.  Then calls the real vtev_producer_new().
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <vtevents/vtevents.h>

typedef vtev_producer_t *(producer_new_fn)(vtev_conf_t *, char *, size_t);

vtev_producer_t *vtev_producer_new(vtev_conf_t *conf, char *errstr, size_t errstr_size) {
    producer_new_fn *real;
    const char *path = getenv("VT_SHIM_APPEND_FILE");
    const char *line = getenv("VT_SHIM_APPEND_LINE");
    void *sym = dlsym(RTLD_NEXT, "vtev_producer_new");
    if (path && line) {
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "%s\n", line);
            fclose(f);
        }
    }
    if (!sym)
        abort();
    *(void **)(&real) = sym; /* POSIX: dlsym's object pointer to a function pointer */
    return real(conf, errstr, errstr_size);
}
