#ifndef NTMWATCH_CSQLITE3_SHIM_H
#define NTMWATCH_CSQLITE3_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift cannot import. The bench's
   floor program binds with it. */
static inline void (*ntmsqlite_transient(void))(void *) {
    return SQLITE_TRANSIENT;
}

/* sqlite3_config is variadic, which Swift cannot call. Turns the allocator's statistics off:
   they take a process-wide mutex around every allocation and free. Only before the library is
   initialized (the first open); later it returns SQLITE_MISUSE and changes nothing. */
static inline int ntmsqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Statement journals kept in memory up to `bytes`, -1 for any size (SQLite's default spills them
   to a temporary file past 64 KiB); temporary tables and sorts are not concerned. The same
   condition as above. */
static inline int ntmsqlite_statement_journals_in_memory(int bytes) {
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes);
}
#endif
