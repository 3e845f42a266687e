// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// The check modules under Plugins/, one folder each: `Sources/<Name>Check` holds the rules (tested
/// by `Tests/`), `Sources/<Name>Module` only the C entry points, so that the test bundle, which links
/// every module's rules, never sees two `ntmwatch_module_create` symbols.
let checkModules: [(folder: String, check: String, module: String)] = [
    ("deadline", "DeadlineCheck", "DeadlineModule"),
    ("satisfaction", "SatisfactionCheck", "SatisfactionModule"),
    ("debt", "DebtCheck", "DebtModule"),
    ("disbursement", "DisbursementCheck", "DisbursementModule"),
    ("standards", "StandardsCheck", "StandardsModule"),
    ("targets", "TargetsCheck", "TargetsModule"),
]

let pluginTargets: [Target] = checkModules.flatMap { plugin -> [Target] in
    let checkKit = Target.Dependency.product(name: "CheckKit", package: "CheckKit")
    return [
        .target(name: plugin.check, dependencies: [checkKit],
                path: "Plugins/\(plugin.folder)/Sources/\(plugin.check)", swiftSettings: swiftSettings),
        .target(name: plugin.module, dependencies: [checkKit, .target(name: plugin.check)],
                path: "Plugins/\(plugin.folder)/Sources/\(plugin.module)", swiftSettings: swiftSettings),
        .testTarget(name: "\(plugin.check)Tests", dependencies: [checkKit, .target(name: plugin.check)],
                    path: "Plugins/\(plugin.folder)/Tests", swiftSettings: swiftSettings),
    ]
}

let package = Package(
    name: "ntmwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ntmwatchd", targets: ["ntmwatchd"]),
        .executable(name: "ntmwatch", targets: ["ntmwatch"]),
        .executable(name: "ntmwatch-bench", targets: ["ntmwatch-bench"]),
        // A check module used by the tests: built as a shared library and loaded with dlopen,
        // never linked into anything.
        .library(name: "NTMTestCheck", type: .dynamic, targets: ["NTMTestCheck"]),
        .library(name: "NTMTestCheckIncompatible", type: .dynamic, targets: ["NTMTestCheckIncompatible"]),
    ] + checkModules.map { .library(name: "ntmwatch-\($0.folder)", type: .dynamic, targets: [$0.module]) },
    dependencies: [
        .package(path: "Sources/CheckKit"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already built for postgres-nio; the module host hashes module files with it, the HTTP
        // receiver signs with it.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3" ..< "5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Only its HummingbirdBcrypt product: the console's password file holds bcrypt hashes.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Already built for Hummingbird; an import hands checked rows to its writer through a channel.
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
    ],
    targets: [
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // A thin layer over the SQLite C API, for what SQLiteNIO cannot do: interrupt, authorizer.
        .target(name: "NTMSQLite", dependencies: ["CSQLite3"], swiftSettings: swiftSettings),
        .target(
            name: "NTMStore",
            dependencies: [
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                "NTMSQLite",
            ],
            swiftSettings: swiftSettings
        ),
        // Runs operator programs (exec modules, sendmail): clean environment, deadline, no new
        // privileges, every descendant killed at the end. Shared by the module host and delivery.
        .target(name: "NTMProcess", dependencies: ["CSystemd"], swiftSettings: swiftSettings),
        // Finds, checks and runs operator modules (libraries, executables, SQL rules); see README.md, "Security".
        .target(
            name: "NTMModuleHost",
            dependencies: [
                "CSystemd", "NTMSQLite", "NTMStore", "NTMProcess",
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Alert lifecycle, fingerprints, matchers, routing and grouping: pure values, no I/O.
        .target(
            name: "NTMAlerting",
            dependencies: [.product(name: "CheckKit", package: "CheckKit")],
            swiftSettings: swiftSettings
        ),
        // The ledger, the history and the notifiers (journald, files, HTTP, e-mail, Alertmanager); depends on alerting only.
        .target(
            name: "NTMDelivery",
            dependencies: [
                "CSystemd", "NTMAlerting", "NTMProcess", "NTMSQLite",
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NTMSpreadsheet",
            dependencies: [.product(name: "CheckKit", package: "CheckKit"),
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: swiftSettings
        ),
        // Workbooks in and out: `.xlsx` import, templates, the alert report. The CLI's, never the
        // daemon's: XMLParser brings libxml2 (and ICU), which ntmwatchd does not need.
        .target(
            name: "NTMWorkbooks",
            dependencies: ["NTMStore", "NTMSpreadsheet", "NTMAlerting", .product(name: "CheckKit", package: "CheckKit")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NTMWatchCore",
            dependencies: [
                "CSystemd", "NTMStore", "NTMModuleHost", "NTMAlerting", "NTMDelivery", "NTMSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemon's HTTP side: /metrics, /healthz, /readyz, and the web console.
        .target(
            name: "NTMWeb",
            dependencies: [
                "NTMWatchCore", "NTMStore", "NTMDelivery", "NTMAlerting", "NTMSQLite",
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ntmwatchd",
            dependencies: [
                "NTMWatchCore", "NTMStore", "NTMWeb",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Dated duties read from a plan's text (issue 22); no store, no network.
        .target(
            name: "NTMExtract",
            dependencies: [
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ntmwatch",
            dependencies: [
                "NTMWatchCore", "NTMStore", "NTMExtract", "NTMSpreadsheet", "NTMWorkbooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ntmwatch-bench",
            dependencies: [
                "NTMWatchCore", "NTMStore", "NTMExtract", "NTMSpreadsheet", "NTMWorkbooks", "CSQLite3",
                // Its seeded generator makes the synthetic provinces.
                "NTMAlertingTestSupport",
                .product(name: "CheckKit", package: "CheckKit"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NTMTestCheck",
            dependencies: [.product(name: "CheckKit", package: "CheckKit")],
            path: "Tests/Fixtures/NTMTestCheck",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NTMTestCheckIncompatible",
            dependencies: [.product(name: "CheckKit", package: "CheckKit")],
            path: "Tests/Fixtures/NTMTestCheckIncompatible",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CheckKitTests",
            dependencies: [.product(name: "CheckKit", package: "CheckKit")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMStoreTests",
            // The modules' rules and the daemon's SQL rule modules, to compare their findings on both backends.
            dependencies: ["NTMStore", "NTMModuleHost", "NTMWatchCore", "NTMWorkbooks"] + checkModules.map { .target(name: $0.check) },
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMExtractTests",
            dependencies: ["NTMExtract", .product(name: "CheckKit", package: "CheckKit")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMSpreadsheetTests",
            dependencies: ["NTMSpreadsheet", "NTMStore", "NTMWorkbooks", "NTMAlerting"],
            swiftSettings: swiftSettings
        ),
        // What the alerting tests share: a tracker that keeps what it recorded, as the state file does.
        .target(
            name: "NTMAlertingTestSupport",
            dependencies: ["NTMAlerting", .product(name: "CheckKit", package: "CheckKit")],
            path: "Tests/NTMAlertingTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMAlertingTests",
            dependencies: ["NTMAlerting", "NTMAlertingTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMDeliveryTests",
            dependencies: ["NTMDelivery", "NTMAlerting", "NTMAlertingTestSupport", "NTMSQLite", "NTMWatchCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NTMWatchCoreTests",
            dependencies: ["NTMModuleHost", "NTMSQLite", "NTMWatchCore", "NTMAlerting", "NTMAlertingTestSupport", "NTMDelivery", "NTMExtract",
                           "NTMWeb", .product(name: "MetricsTestKit", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),
    ] + pluginTargets
)
