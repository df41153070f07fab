import IntakeCore
import IntakeStore
import Testing

/// The feed memory's one-column encodings, read back for every record of a nightly run.
@Suite struct FeedMemoryEncodingTests {
    @Test func objectsRoundTrip() {
        let objects = [
            FeedObject(destination: "profile", ref: ObjectRef(32768), version: 1),
            FeedObject(destination: "a-much-longer-destination-name", ref: ObjectRef(9_007_199_254_740_993), version: 12)
        ]
        #expect(FeedObject.decode(FeedObject.encode(objects)) == objects)
        #expect(FeedObject.decode("") == [])
    }

    @Test func malformedObjectLinesAreLeftOut() {
        let text = "profile 1 2\nno-version 5\nprofile x 2\nprofile 1 2 3\n two 1 2\nlast 7 9"
        #expect(
            FeedObject.decode(text) == [
                FeedObject(destination: "profile", ref: ObjectRef(1), version: 2),
                FeedObject(destination: "last", ref: ObjectRef(7), version: 9)
            ])
    }

    @Test func readsRoundTrip() {
        let reads: [RememberedRead] = [
            .object(ObjectRef(40000), version: 3), .object(ObjectRef(40001), version: nil),
            .username("s0000001", ObjectRef(32768)), .username("nobody here", nil),
            .behaviour("hr:department:dep-016", ObjectRef(5)), .behaviour("missing", nil)
        ]
        #expect(RememberedRead.decode(RememberedRead.encode(reads)) == reads)
        #expect(RememberedRead.decode("") == [])
    }

    @Test func malformedReadsAreRefusedWhole() {
        for text in ["x 1 name", "u 1", "u1 name", "o - 3", "u abc name", "o 1 2\nq 1 2", "u  name"] {
            #expect(RememberedRead.decode(text) == nil, "\(text)")
        }
    }
}
