import IntakeCore

/// The object-ref counter as one write transaction moves it: read from the store once (`read`, on
/// first use), moved in memory, and written back once by the transaction's end (`last`). Both
/// backends hold the counter's lock for the whole transaction (SQLite's write lock, PostgreSQL's
/// row lock), so a reservation never overlaps another writer's, and a rolled-back transaction gives
/// its refs back.
package struct RefCounter {
    /// The last ref handed out or reserved; nil until the counter was first read.
    package private(set) var last: Int64?

    package init() {}

    private mutating func current(_ read: () throws -> Int64) rethrows -> Int64 {
        if let last { return last }
        let value = try read()
        last = value
        return value
    }

    package mutating func next(_ read: () throws -> Int64) rethrows -> ObjectRef {
        let ref = try current(read) + 1
        last = ref
        return ObjectRef(ref)
    }

    package mutating func reserve(_ count: Int, _ read: () throws -> Int64) rethrows -> ClosedRange<Int64> {
        let first = try current(read) + 1
        let end = first + Int64(count) - 1
        last = end
        return first...end
    }

    /// Gives back the end of a reservation (`used` is the last ref used) if nothing was reserved
    /// after it.
    package mutating func release(after used: Int64, reservedThrough end: Int64, _ read: () throws -> Int64) rethrows {
        if try current(read) == end { last = used }
    }
}
