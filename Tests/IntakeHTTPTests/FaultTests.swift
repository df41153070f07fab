import Testing

/// The tests that stop databases, fill disks and kill servers, one at a time: each keeps both cores
/// busy with servers of its own, and beside each other they starved the in-process servers of the
/// timing-sensitive tests (a header timeout seen after 21 s instead of 5).
@Suite(.serialized) enum FaultTests {}
