@testable import NTMAlerting

// One alert at a time, each with an origin of its own: the tracker and the state share them.
extension TrackedAlert {
    init(_ alert: Alert) {
        var origins = OriginTable()
        self.init(alert, origins: &origins)
    }
}

extension AlertCodec {
    static func tracked(_ bytes: some Collection<UInt8>, messages: MessageTable = MessageTable()) throws(Corrupt) -> TrackedAlert {
        var origins = OriginTable()
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(Corrupt) in
            try tracked(buffer, origins: &origins, messages: messages)
        }
    }
}

extension AlertTracker {
    /// A compacted copy, beside this tracker (which keeps its alerts allocated).
    func compacted() -> AlertTracker {
        var copy = self
        copy.compact {}
        return copy
    }
}
