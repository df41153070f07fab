// IntakeStore: the storage seam. It owns the store protocols, split by role (`ControlFileStore`,
// `BatchRepository`, `JobQueue`, `APIKeyStore`, `SettingsStore`, `ObjectStore`, composed as
// `BatchStore`), the value types they exchange (batches, progress, keys, objects), the job lease
// rules, the content-addressed blob folder and API-key hashing. Imports IntakeCore and swift-crypto,
// never a database driver.
