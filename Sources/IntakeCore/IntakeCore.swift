// IntakeCore: the import engine. It owns the control-file language (parsing, validation,
// instructions), the schema and models, value conversion, record transformation and the readers
// that turn byte sources into records. Pure Swift with no I/O of its own: it imports Foundation
// only for XMLParser and a few value types, and nothing of Intake's. Storage reaches it through the
// `ObjectRepository` protocol; bytes through `ByteSource`.
