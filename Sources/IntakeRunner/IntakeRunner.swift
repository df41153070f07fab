// IntakeRunner: running batches. It owns `BatchRun` (one run: readers, engine, chunked commits with
// the resume position, the store writer thread, the well-formedness check), `BatchWorker` (the
// in-process worker that claims batches from the job queue), the xlsx container reader, metrics and
// service health. Imports IntakeStore, IntakeCore, swift-log, ServiceLifecycle and ZIPFoundation.
