// intake: the command line (swift-argument-parser). Each command parses its options, opens the data
// directory (the one place a concrete store, SQLite, is chosen), and calls the same library code the
// HTTP handlers call. `intake serve` also holds the data directory's server lock.
