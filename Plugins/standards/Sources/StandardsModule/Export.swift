import CheckKit
import StandardsCheck

@_cdecl("ntmwatch_module_abi")
public func ntmwatchModuleABI() -> UInt32 { ModuleExport.abiVersion }

@_cdecl("ntmwatch_module_create")
public func ntmwatchModuleCreate() -> UnsafeMutableRawPointer { ModuleExport.export(StandardsCheck()) }
