// IntakeHTTP: the HTTP face. `buildApplication` wires the Hummingbird application: the batch API
// and read API controllers (thin: forms in, `ImportService` calls, answers out), API-key
// authentication as middleware per scope group, error rendering, streaming multipart uploads,
// timeouts and the health, readiness and metrics endpoints. Imports IntakeApp, IntakeRunner,
// IntakeStore, IntakeCore, Hummingbird and NIO; never a database driver.
