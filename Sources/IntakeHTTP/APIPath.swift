/// Every path of the HTTP API, written once.
enum APIPath {
    static let batchAPI = "/api/haplo-data-import-batch"
    static let control = "\(batchAPI)/control"
    static let batch = "\(batchAPI)/batch"
    static let file = "\(batchAPI)/file"
    static let schedule = "\(batchAPI)/schedule"
    static let status = "\(batchAPI)/status"
    static let log = "\(batchAPI)/log"
    static let results = "\(batchAPI)/results"
    static let cancel = "\(batchAPI)/cancel"
    static let copy = "\(batchAPI)/copy"
    static let rollback = "\(batchAPI)/rollback"
    static let readAPI = "/api/v1"
    static let objects = "\(readAPI)/objects"
    static let health = "/health"
    static let metrics = "/metrics"
    static let ready = "/ready"
}
