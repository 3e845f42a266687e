import NTMProcess

/// The module host's internal commands of `ntmwatchd`, handled before its arguments are parsed:
/// `--probe-module PATH` (``ModuleProbe``) and `--contain-module-run PROGRAM ARGS...`
/// (``ContainedRun``). They are not for operators, and not in `--help`.
public enum ModuleHostCommands {
    /// Runs the internal command `arguments` name and exits; returns when they name none.
    public static func runIfRequested(_ arguments: [String] = CommandLine.arguments) {
        guard arguments.count >= 3 else { return }
        switch arguments[1] {
        case ModuleProbe.flag: ModuleProbe.probeMain(path: arguments[2])
        case ContainedRun.flag: ContainedRun.helperMain(Array(arguments[2...]))
        default: return
        }
    }
}
