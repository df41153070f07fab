// IntakeApp: the application core. `ImportService` owns the use cases (control files, batches,
// files, scheduling, cancel, copy, rollback, API keys) with their state rules and exact messages;
// `DirectRun` is `intake run`. The HTTP API, the command line (and the admin UI) call these and only
// translate requests and answers. Imports IntakeRunner, IntakeStore, IntakeCore and swift-log; never
// Hummingbird or a database driver.
