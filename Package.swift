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
        // Fuzzing (scripts/fuzz): a normal build replays a corpus; a -sanitize=fuzzer build fuzzes.
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "vault-fuzz", dependencies: ["VaultKit", "CFuzzDriver"]),
        .testTarget(
            name: "VaultKitTests",
            dependencies: ["VaultKit"],
            exclude: ["Vectors", "Interop"]
        ),
    ]
)
