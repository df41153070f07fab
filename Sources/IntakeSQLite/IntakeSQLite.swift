// IntakeSQLite: the embedded backend. `SQLiteBatchStore` implements every IntakeStore role on one
// SQLite database in WAL mode through GRDB (and the SQLite C API for the per-record statements).
// Imports IntakeStore, IntakeCore and GRDB; nothing above it imports GRDB.
