/// The C entry points a module library exports, and the ABI handshake.
///
/// Every module declares exactly these two functions (names and signatures are the ABI):
///
/// ```swift
/// @_cdecl("ntmwatch_module_abi")
/// public func ntmwatchModuleABI() -> UInt32 { ModuleExport.abiVersion }
///
/// @_cdecl("ntmwatch_module_create")
/// public func ntmwatchModuleCreate() -> UnsafeMutableRawPointer { ModuleExport.export(MyCheck()) }
/// ```
public enum ModuleExport {
    /// The ABI version of the SDK a module was compiled against. `@inlinable` on purpose: the value
    /// is compiled into the module, so the daemon sees what the module was built with, not what the
    /// daemon ships. Raised on any change that breaks compiled modules (a protocol requirement, a
    /// public type's layout).
    @inlinable public static var abiVersion: UInt32 { 4 }

    public static let createSymbol = "ntmwatch_module_create"
    public static let abiSymbol = "ntmwatch_module_abi"

    /// Wraps a module for `ntmwatch_module_create`. The daemon takes ownership of the pointer.
    public static func export(_ module: any CheckModule) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(ModuleBox(module)).toOpaque()
    }

    /// The daemon's side of `export`: takes ownership of the pointer and returns the module.
    public static func adopt(_ pointer: UnsafeMutableRawPointer) -> any CheckModule {
        Unmanaged<ModuleBox>.fromOpaque(pointer).takeRetainedValue().module
    }
}

/// Carries an existential across the C boundary as one retained object pointer.
final class ModuleBox: Sendable {
    let module: any CheckModule
    init(_ module: any CheckModule) { self.module = module }
}
