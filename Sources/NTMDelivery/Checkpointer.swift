import Dispatch
import NTMSQLite
import Synchronization

/// Checkpoints the state file's write-ahead log on a connection and a thread of its own.
///
/// SQLite checkpoints at the end of the commit that takes the log past 1,000 pages, on the
/// committing thread: after a national first cycle's record, 156 MB were copied into the
/// database before anything could be delivered, and again between the batch marks of its
/// delivery, with the other core idle (issue 21). The state's connection hands the checkpoint
/// to this one instead, which copies what it can without waiting for the writer (`PASSIVE`)
/// while the writer goes on. The first commit after a checkpoint that copied everything starts
/// the log over and cuts the file back to its size limit, as before.
final class Checkpointer: Sendable {
    /// SQLite's own threshold for its automatic checkpoint, in log frames (pages).
    static let threshold = 1_000

    private let queue = DispatchQueue(label: "ntmwatch.state.checkpoint")
    /// nil once closed.
    private let connection: Mutex<SQLite3Connection?>
    private let scheduled = Atomic<Bool>(false)

    init(path: String) throws(SQLite3Error) {
        let connection = try SQLite3Connection(path: path, flags: [.readWrite])
        // A checkpoint syncs the database file as this connection's setting says.
        try connection.execute("PRAGMA synchronous = FULL")
        self.connection = Mutex(connection)
    }

    /// Called by the writer's connection after each commit, with the frames now in the log:
    /// starts a checkpoint when the log is past the threshold and none is waiting to start.
    func committed(frames: Int) {
        guard frames >= Self.threshold, !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            scheduled.store(false, ordering: .releasing)
            // A checkpoint that fails (or finds the log busy) leaves the frames where they are,
            // safe: the next commit past the threshold, or the state's close, copies them.
            connection.withLock { try? $0?.checkpoint() }
        }
    }

    /// Returns once a checkpoint started before the call has ended.
    func wait() {
        queue.sync {}
    }

    /// Waits for a checkpoint under way and closes this connection, before the state's own
    /// closes and copies what is left.
    func close() {
        wait()
        connection.withLock { $0 = nil }
    }
}
