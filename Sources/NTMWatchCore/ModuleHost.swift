// The daemon's core hands loaded modules, configuration errors and durations to its callers, all of
// which live in the module host target; re-exported so that `import NTMWatchCore` stays enough.
@_exported import NTMModuleHost
