import CSystemd
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs an operator's executable (an exec module, `sendmail`) the way a monitoring daemon must: in
/// its own process group, with a clean environment and no blocked signals, a deadline, bounded
/// output, without new privileges (`PR_SET_NO_NEW_PRIVS`, set on the spawning thread and inherited
/// by the child), and, with a `helper`, contained: through the ``ContainedRun`` helper, which kills
/// every descendant of the run when it ends, even those that left its process group.
public struct Subprocess: Sendable {
    public struct Outcome: Sendable {
        /// The exit status, or nil when the process was killed by a signal.
        public let exitStatus: Int32?
        public let signal: Int32?
        public let stdout: Data
        public let stderr: Data
    }

    public enum Failure: Error, CustomStringConvertible {
        case spawn(String, Int32)
        case timedOut(Duration)
        case outputTooLarge(Int)
        case cancelled

        public var description: String {
            switch self {
            case .spawn(let path, let code): "cannot start \(path): \(String(cString: strerror(code)))"
            case .timedOut(let limit): "did not finish within \(limit); it and every process it started were killed"
            case .outputTooLarge(let limit): "wrote more than \(limit) bytes to stdout; it and every process it started were killed"
            case .cancelled: "cancelled; it and every process it started were killed"
            }
        }
    }

    public let arguments: [String]
    public let environment: [String: String]
    public let input: Data
    public let timeout: Duration
    public let maxOutput: Int
    /// The containment helper (`ntmwatchd`); nil runs the program directly, in its own process
    /// group only (for the daemon's own short-lived children, such as the module probe).
    public var helper: String?
    /// stderr beyond this is dropped (it only goes to the log).
    public var maxErrorOutput = 64 * 1024

    public init(arguments: [String], environment: [String: String], input: Data, timeout: Duration, maxOutput: Int,
                helper: String? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.input = input
        self.timeout = timeout
        self.maxOutput = maxOutput
        self.helper = helper
    }

    /// The environment every child gets: nothing of the daemon's (no credentials, no proxies).
    public static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "Asia/Ho_Chi_Minh"].merging(extra) { $1 }
    }

    public func run() async throws -> Outcome {
        let cancelled = Mutex(false)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    continuation.resume(with: Result { try runBlocking(isCancelled: { cancelled.withLock { $0 } }) })
                }
                thread.start()
            }
        } onCancel: {
            cancelled.withLock { $0 = true }
        }
    }

    /// A new process group, no blocked signals, every handler back to its default: the child
    /// inherits nothing of the daemon's signal setup.
    static func initializeAttributes(_ attributes: inout posix_spawnattr_t) {
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    /// Runs on a thread of its own and waits: for callers that are not async (the module loader).
    public func runNow() throws -> Outcome {
        let result = Mutex<Result<Outcome, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let outcome = Result { try runBlocking(isCancelled: { false }) }
            result.withLock { $0 = outcome }
            done.signal()
        }.start()
        done.wait()
        return try result.withLock { $0! }.get()
    }

    /// A child that exits before reading all its input must not kill the daemon with SIGPIPE:
    /// the write fails with EPIPE instead. Process-wide, so once.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    private func runBlocking(isCancelled: () -> Bool) throws -> Outcome {
        Self.ignoreBrokenPipes
        // Per thread, and this thread is new: the children inherit it from the thread that spawns them.
        _ = ntmwatch_set_no_new_privileges()
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], controlPipe: [Int32] = [-1, -1]
        guard ntmwatch_pipe_cloexec(&inPipe) == 0, ntmwatch_pipe_cloexec(&outPipe) == 0, ntmwatch_pipe_cloexec(&errPipe) == 0,
              helper == nil || ntmwatch_pipe_cloexec(&controlPipe) == 0 else {
            throw Failure.spawn(arguments[0], errno)
        }
        // Closing our end of the control pipe tells the helper to stop the run; being close-on-exec,
        // it never leaks into another run's helper, whose stop signal would then never come.
        var control: Int32? = helper == nil ? nil : controlPipe[1]
        defer { if let control { close(control) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if helper != nil { posix_spawn_file_actions_adddup2(&actions, controlPipe[0], ContainedRun.controlFD) }
        ntmwatch_spawn_close_from(&actions, helper == nil ? 3 : ContainedRun.controlFD + 1)
        var attributes = posix_spawnattr_t()
        Self.initializeAttributes(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        let command = helper.map { [$0, ContainedRun.flag] + arguments } ?? arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        for fd in [inPipe[0], outPipe[1], errPipe[1], controlPipe[0]] where fd >= 0 { close(fd) }
        guard spawned == 0 else {
            for fd in [inPipe[1], outPipe[0], errPipe[0]] { close(fd) }
            throw Failure.spawn(command[0], spawned)
        }

        var stdout = Data(), stderr = Data()
        var pending = input[...]
        var writeFD: Int32? = inPipe[1], readFDs: [Int32] = [outPipe[0], errPipe[0]]
        _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
        if pending.isEmpty, let fd = writeFD { close(fd); writeFD = nil }
        let deadline = ContinuousClock.now + timeout
        var failure: Failure?
        var status: Int32 = 0
        var reaped = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while !readFDs.isEmpty {
            if isCancelled() { failure = .cancelled; break }
            if ContinuousClock.now >= deadline { failure = .timedOut(timeout); break }
            var fds = readFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let fd = writeFD { fds.append(pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)) }
            guard poll(&fds, nfds_t(fds.count), 50) >= 0 || errno == EINTR else { break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == writeFD {
                    let written = pending.withUnsafeBytes { write(entry.fd, $0.baseAddress, $0.count) }
                    if written > 0 { pending = pending.dropFirst(written) }
                    if pending.isEmpty || (written < 0 && errno != EAGAIN) { close(entry.fd); writeFD = nil }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count <= 0 {
                    if count == 0 || errno != EAGAIN && errno != EINTR { close(entry.fd); readFDs.removeAll { $0 == entry.fd } }
                    continue
                }
                if entry.fd == outPipe[0] {
                    stdout.append(contentsOf: buffer[..<count])
                    if stdout.count > maxOutput { failure = .outputTooLarge(maxOutput) }
                } else if stderr.count < maxErrorOutput {
                    stderr.append(contentsOf: buffer[..<min(count, maxErrorOutput - stderr.count)])
                }
            }
            if failure != nil { break }
        }
        for fd in readFDs { close(fd) }
        if let fd = writeFD { close(fd) }
        // The pipes close a moment before the process has exited: collect its status first, so
        // that killing the group below cannot turn a clean exit into "killed by signal 9".
        while failure == nil {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { reaped = true; break }
            if result < 0 && errno != EINTR { break }
            if isCancelled() { failure = .cancelled } else if ContinuousClock.now >= deadline { failure = .timedOut(timeout) }
            usleep(5_000)
        }
        if failure != nil, !reaped, let fd = control {
            // The helper kills the run's processes and exits; it gets a moment for that before
            // its own group is killed below.
            close(fd)
            control = nil
            let grace = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < grace {
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid { reaped = true; break }
                if result < 0 && errno != EINTR { break }
                usleep(2_000)
            }
        }
        // Whatever happened, nothing of the group outlives the run: a plugin's forgotten
        // background child would otherwise hold on and accumulate cycle after cycle.
        kill(-pid, SIGKILL)
        if !reaped { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
        if let failure { throw failure }
        let exited = status & 0x7f == 0
        return Outcome(exitStatus: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f,
                       stdout: stdout, stderr: stderr)
    }
}
