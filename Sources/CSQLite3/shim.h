#ifndef NTMWATCH_CSQLITE3_SHIM_H
#define NTMWATCH_CSQLITE3_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift cannot import. */
static inline void (*ntmsqlite_transient(void))(void *) {
    return SQLITE_TRANSIENT;
}
#endif
