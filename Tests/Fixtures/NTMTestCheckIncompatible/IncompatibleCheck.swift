import CheckKit

/// A library that claims an SDK ABI this daemon does not provide: the loader must refuse it
/// without calling anything else in it.
@_cdecl("ntmwatch_module_abi")
public func ntmwatchModuleABI() -> UInt32 { ModuleExport.abiVersion + 1000 }

@_cdecl("ntmwatch_module_create")
public func ntmwatchModuleCreate() -> UnsafeMutableRawPointer {
    fatalError("the loader must not create a module whose ABI it refused")
}
