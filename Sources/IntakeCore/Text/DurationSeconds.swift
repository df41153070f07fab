extension Duration {
    /// The duration as a number of seconds, for rates and log fields.
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
