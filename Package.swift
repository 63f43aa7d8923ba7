// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vault",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vault", targets: ["vault"]),
        .library(name: "VaultKit", targets: ["VaultKit"]),
        // The HTTP transport for Exact Online (URLSession), for a Swift receiving system.
        .library(name: "VaultExactHTTP", targets: ["VaultExactHTTP"]),
        // The helper `vault` runs to talk to Exact Online; installed beside `vault`.
        .executable(name: "vault-http", targets: ["vault-http"]),
    ],
    // PostgreSQL keystores (docs/KEYSTORE.md §13) need postgres-nio and SwiftNIO, which take
    // minutes to build: only `swift build --traits PostgreSQL` (the release build) builds them;
    // the everyday binary and `scripts/test` do not.
    traits: [
        .trait(name: "PostgreSQL", description: "Keystores in a PostgreSQL database (postgres:// addresses)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The system's libsodium, found through pkg-config; nothing is vendored.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "VaultKit", dependencies: ["CSodium"]),
        // The PostgreSQL back end of the keystore storage protocol. Without the trait it compiles
        // to an empty module and postgres-nio is not built.
        .target(
            name: "VaultPostgres",
            dependencies: [
                "VaultKit",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
            ]
        ),
        // The few process and terminal calls Glibc does not import (prctl).
        .target(name: "CVaultSys"),
        // The commit the binary was built from, defined only by scripts/release (`vault --version`).
        .target(name: "CVaultBuild"),
        .executableTarget(
            name: "vault",
            dependencies: [
                "VaultKit", "CVaultSys", "CVaultBuild", "VaultPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Bind every symbol at start (and full RELRO): lazy binding runs the dynamic
            // linker's resolver at the first call of a libsodium function, and that resolver
            // saves all vector registers on the stack, where fragments of a secret just copied
            // with memcpy were left behind (found by scripts/reliability/secret_hygiene.py).
            // ELF linkers only (Linux): Apple's and Microsoft's linkers have no -z.
            linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now", "-Xlinker", "-z", "-Xlinker", "relro"],
                                          .when(platforms: [.linux]))]
        ),
        // FoundationNetworking lives only here and in the helper: linking it into `vault` would
        // load about thirty more shared libraries at every start (docs/PERFORMANCE.md).
        .target(name: "VaultExactHTTP", dependencies: ["VaultKit"]),
        .executableTarget(
            name: "vault-http",
            dependencies: ["VaultKit", "VaultExactHTTP", "CVaultSys"],
            // As for `vault`: every symbol bound at start, full RELRO.
            linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now", "-Xlinker", "-z", "-Xlinker", "relro"])]
        ),
        // Fuzzing (scripts/fuzz): a normal build replays a corpus; a -sanitize=fuzzer build fuzzes.
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "vault-fuzz", dependencies: ["VaultKit", "CFuzzDriver"]),
        // Test helper: several of these contend for one keystore in the keystore tests.
        .executableTarget(name: "keystore-stress", dependencies: ["VaultKit", "VaultPostgres"]),
        // Benchmark for docs/PERFORMANCE.md; run it in release mode, never as a unit test.
        .executableTarget(name: "keystore-bench", dependencies: ["VaultKit"]),
        .testTarget(
            name: "VaultKitTests",
            dependencies: ["VaultKit", "VaultExactHTTP", "keystore-stress", "VaultPostgres"],
            exclude: ["Vectors", "Interop", "Fixtures"]
        ),
        // Runs the built `vault` binary as a user would; depends on it so it is built first.
        .testTarget(
            name: "VaultCLITests",
            dependencies: ["vault", "vault-http", "VaultKit"],
            exclude: ["Scripts"]
        ),
    ]
)
