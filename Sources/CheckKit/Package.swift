// swift-tools-version:6.1
// CheckKit, the ntmwatch module SDK. It is its own package so that its library product can be
// dynamic: the daemon and every dlopen'ed check module must share one copy of its type metadata,
// or a module's object cannot be cast to `CheckModule` in the daemon.
import PackageDescription

let package = Package(
    name: "CheckKit",
    products: [
        .library(name: "CheckKit", type: .dynamic, targets: ["CheckKit"]),
    ],
    targets: [
        // Foundation only, on purpose: any other package linked into the SDK would exist twice in
        // the daemon's process (once here, once statically in the daemon) and break casts.
        .target(name: "CheckKit", swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
