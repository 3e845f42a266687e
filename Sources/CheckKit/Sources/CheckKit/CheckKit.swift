/// CheckKit is the SDK of ntmwatch check modules: the only library a module imports.
///
/// A module is a shared library that exports two C symbols (see ``ModuleExport``):
/// `ntmwatch_module_abi` returns the SDK ABI version the module was compiled against, and
/// `ntmwatch_module_create` returns a new instance of the module's ``CheckModule``.
///
/// The daemon gives each evaluation an ``EvaluationContext``: the instant being evaluated, the
/// module's validated ``Settings``, a read-only ``StoreReader`` already scoped to that instant, and
/// a ``CheckLogger``. The module returns ``Finding``s; everything after that (alert state,
/// routing, journald, webhook files) is the daemon's job.
public enum CheckKit {
    /// The SDK's semantic version, for people. The loader compares ``ModuleExport/abiVersion``.
    public static let version = "4.1.0"
}
