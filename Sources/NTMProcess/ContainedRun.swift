import CSystemd
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The helper that contains one exec module run: `ntmwatchd --contain-module-run PROGRAM ARGS...`.
///
/// A process group is not enough: a plugin's child that calls `setsid` leaves it and outlives the
/// run. The helper makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`), so every orphaned
/// descendant of the run is re-parented to it rather than to PID 1; when the program exits, or the
/// daemon closes the control pipe (fd 3: timeout, cancellation, or the daemon itself died), it kills
/// the program's group and then, round after round, every child it has, until it has none. A
/// descendant can only escape by having a living ancestor outside the run, which it cannot create.
/// cgroups would do the same but the unit runs with `ProtectControlGroups=yes`.
public enum ContainedRun {
    public static let flag = "--contain-module-run"
    /// The read end of the daemon's control pipe in the helper; end of file means "stop now".
    static let controlFD: Int32 = 3
    /// The helper's exit status when the daemon asked it to stop.
    static let stoppedStatus: Int32 = 125

    /// Runs `command` contained and exits with its status (or dies of its signal).
    public static func helperMain(_ command: [String]) -> Never {
        guard !command.isEmpty else { exit(2) }
        _ = ntmwatch_set_child_subreaper()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        ntmwatch_spawn_close_from(&actions, controlFD)
        var attributes = posix_spawnattr_t()
        Subprocess.initializeAttributes(&attributes)
        let argv = command.map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            FileHandle.standardError.write(Data("cannot start \(command[0]): \(String(cString: strerror(spawned)))\n".utf8))
            exit(126)
        }
        // The pipes to the daemon are the program's now: their end of file must mean that the
        // program and everything it started are gone, not that this helper closed them.
        let null = open("/dev/null", O_RDWR)
        for fd: Int32 in 0...2 { dup2(null, fd) }
        close(null)

        var status: Int32 = 0
        var exited = false, stopped = false
        while !exited && !stopped {
            var control = pollfd(fd: controlFD, events: Int16(POLLIN), revents: 0)
            if poll(&control, 1, 20) > 0 { stopped = true }
            // Reaps adopted orphans that ended, and notices the program's own end.
            while true {
                var childStatus: Int32 = 0
                let reaped = waitpid(-1, &childStatus, WNOHANG)
                if reaped <= 0 { break }
                if reaped == pid { status = childStatus; exited = true }
            }
        }
        killDescendants(group: pid)
        if stopped && !exited { exit(stoppedStatus) }
        if status & 0x7f == 0 { exit((status >> 8) & 0xff) }
        // Die of the same signal, without a core file, so that the daemon reports what happened.
        _ = ntmwatch_disable_core_dumps()
        signal(status & 0x7f, SIG_DFL)
        kill(getpid(), status & 0x7f)
        exit(128 + (status & 0x7f))
    }

    /// Kills the program's group, then every child of this subreaper (adopted orphans included),
    /// again and again as grandchildren are re-parented, until there are none.
    static func killDescendants(group: pid_t) {
        kill(-group, SIGKILL)
        let me = getpid()
        let giveUp = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < giveUp {
            for child in children(of: me) { kill(child, SIGKILL) }
            var status: Int32 = 0
            let reaped = waitpid(-1, &status, WNOHANG)
            if reaped > 0 { continue }
            if reaped < 0 && errno == ECHILD { return }
            usleep(1_000)
        }
    }

    /// The processes whose parent is `parent`, from /proc/PID/stat (the field after the name).
    static func children(of parent: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }
}
