// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vault",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vault", targets: ["vault"]),
        .library(name: "VaultKit", targets: ["VaultKit"]),
    ],
    targets: [
        // The system's libsodium, found through pkg-config; nothing is vendored.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "VaultKit", dependencies: ["CSodium"]),
        .executableTarget(name: "vault", dependencies: ["VaultKit"]),
        // Test helper: several of these contend for one keystore in the keystore tests.
        .executableTarget(name: "keystore-stress", dependencies: ["VaultKit"]),
        // Benchmark for docs/PERFORMANCE.md; run it in release mode, never as a unit test.
        .executableTarget(name: "keystore-bench", dependencies: ["VaultKit"]),
        .testTarget(
            name: "VaultKitTests",
            dependencies: ["VaultKit"],
            exclude: ["Vectors", "Interop"]
        ),
    ]
)
