import Foundation
import XCTest
import VaultKit

/// What one run of the binary did.
struct Run {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Both streams, for "no secret anywhere" checks.
    var all: String { stdout + stderr }
}

/// Runs the built `vault` as a user would. Every run starts in a new session (`setsid -w`), so
/// it has no controlling terminal and can never prompt, even from a developer's terminal.
enum CLI {
    /// The package root (for scripts and the default build directory).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `vault` binary: `VAULT_BINARY` if set, else next to the test bundle (the test target
    /// depends on the executable, so SwiftPM builds it first), else .build/debug/vault.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["VAULT_BINARY"] { return path }
        var candidates: [URL] = []
        for bundle in Bundle.allBundles + [Bundle.main] {
            var dir = bundle.bundleURL
            for _ in 0..<3 {
                candidates.append(dir.appendingPathComponent("vault"))
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/vault"))
        for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue { return url.path }
        }
        fatalError("the vault binary was not found; build it first (swift build) or set VAULT_BINARY")
    }()

    /// Runs `vault args` in `directory` with `stdin` as standard input.
    /// - Parameter wrapper: a command that runs vault, such as `["prlimit", "--fsize=100"]`.
    @discardableResult
    static func run(_ args: [String], in directory: URL, stdin: String? = nil,
                    environment: [String: String] = [:], wrapper: [String] = []) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["-w"] + wrapper + [binary] + args
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") }
        env.merge(environment) { $1 }
        process.environment = env
        // Output goes to files, so a full pipe can never block the child.
        let outURL = directory.appendingPathComponent("../\(UUID().uuidString).out").standardized
        let errURL = directory.appendingPathComponent("../\(UUID().uuidString).err").standardized
        // Private, as a receiving system's file of secrets should be (vault warns otherwise).
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil, attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil, attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A scratch directory per test, with an integrator key pair and its public key file.
class CLITestCase: XCTestCase {
    var dir: URL!
    var key: KeyPair!
    var pub: String { "integrator.pub" }
    var recipient: String { key.publicKey.recipient }
    var fingerprint: String { key.publicKey.fingerprint.canonical }

    /// A client secret of the Exact form, and its JSON input file.
    let secret = "EKKQh8KqRptS"
    let clientID = "1c07724e-cc1b-9ff3-2f42-4a50582c18c9"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vault-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        key = try KeyPair.generate()
        try write(pub, PublicKeyFile.text(recipient: key.publicKey.bytes, fingerprint: key.publicKey.fingerprint,
                                          created: Handoff.now()))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func run(_ args: String..., stdin: String? = nil) throws -> Run { try CLI.run(args, in: dir, stdin: stdin) }
    func run(_ args: [String], stdin: String? = nil) throws -> Run { try CLI.run(args, in: dir, stdin: stdin) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path(name))
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    /// The names in the scratch directory (hidden temporary files included).
    func files() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) }

    /// Writes the usual credentials input file.
    func writeInput(_ name: String = "creds.json", _ json: String? = nil) throws {
        try write(name, json ?? #"{"client_id":"\#(clientID.uppercased())","client_secret":"\#(secret)"}"#)
    }

    /// Opens every blob of `text` with the test key.
    func open(_ text: String, now: UTCTime = Handoff.now()) -> [Result<OpenedBlob, OpenError>] {
        Handoff.open(Array(text.utf8), keys: [key], now: now).map(\.result)
    }

    /// The single opened payload of `text`.
    func payload(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Payload {
        let results = open(text)
        XCTAssertEqual(results.count, 1, file: file, line: line)
        return try XCTUnwrap(try? results.first?.get().payload, "blob does not open", file: file, line: line)
    }

    /// Asserts a status, that stdout is empty (for failures) and that stderr names `words`.
    func assertFails(_ r: Run, _ status: Int32, _ words: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("vault: error: "), r.stderr, file: file, line: line)
        for w in words { XCTAssertTrue(r.stderr.contains(w), "\(w) not in: \(r.stderr)", file: file, line: line) }
        XCTAssertFalse(r.all.contains(secret), "a secret was printed", file: file, line: line)
    }
}

func string(_ s: SecretBytes) -> String { s.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
