import CFuzzDriver
import Foundation
import VaultKit

// One executable, several targets: `vault-fuzz TARGET [libFuzzer flags] [corpus…]`.
// Each target checks the properties of FORMAT.md's layers; a violated property traps, which
// libFuzzer records as a crash with its input.

/// A fixed key pair (all-0x42 secret) so that `blob` also runs `crypto_box_seal_open` on garbage.
nonisolated(unsafe) let fuzzKey = try! KeyPair(secretKey: SecretBytes([UInt8](repeating: 0x42, count: 32)))
let fuzzNow = UTCTime(exact: "2026-11-24T00:00:00Z")!

func require(_ condition: Bool, _ what: String) {
    if !condition { fatalError("property violated: \(what)") }
}

/// Armor, blob frame, and the whole open path.
func fuzzBlob(_ input: [UInt8]) {
    for block in Armor.decode(input) {
        guard case .success(let bytes) = block.contents else { continue }
        // The armor is tolerant: encode → decode gives the same bytes back.
        let again = Armor.decode(Array(Armor.encode(bytes).utf8))
        require(again.count == 1 && (try? again[0].contents.get()) == bytes, "armor re-encoding")
        // The binary frame is exact: it re-encodes byte for byte.
        if let blob = try? SealedBlob(bytes: bytes) { require(blob.bytes == bytes, "blob re-encoding") }
    }
    _ = Handoff.open(input, keys: [fuzzKey], now: fuzzNow)
}

/// The payload JSON as an opener reads it after decryption.
func fuzzPayload(_ input: [UInt8]) {
    guard let plaintext = try? SecretBytes(input), let payload = try? PayloadCodec.decode(plaintext) else { return }
    // Tolerant only in layout: read → write → read gives the same value, written identically.
    guard let written = try? PayloadCodec.encode(payload) else { return require(false, "a valid payload re-encodes") }
    guard let reread = try? PayloadCodec.decode(written), let rewritten = try? PayloadCodec.encode(reread) else {
        return require(false, "a re-encoded payload reads back")
    }
    require(written.constantTimeEquals(rewritten), "payload read → write → read → write is stable")
}

/// Bech32 recipient and secret-key strings.
func fuzzBech32(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    guard Array(text.utf8) == input else { return }
    if let key = try? KeyText.parseRecipient(text) {
        // Canonical Bech32 re-encodes byte-identically (lower case; upper case is the same string).
        require(KeyText.recipient(key) == text.lowercased(), "recipient re-encoding")
    }
    if let secret = try? SecretBytes(input), let pair = try? SecretKeyText.decode(secret),
       let back = try? SecretKeyText.encode(pair) {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n")).uppercased()
        require(back.constantTimeEquals(Array(trimmed.utf8)), "secret-key re-encoding")
    }
}

/// The hand-off request text.
func fuzzRequest(_ input: [UInt8]) {
    guard let request = try? HandoffRequests.read(input) else { return }
    let pk = try! PublicKey(bytes: request.recipient)
    let text = request.text(fingerprint: pk.fingerprint)
    require((try? HandoffRequests.read(Array(text.utf8))) == request, "request text parse → write → parse")
}

/// The keystore reader, given the key (a key-file keystore: no KDF runs), over an in-memory
/// image of the file: whatever the bytes, opening and reading end in a value or a typed error.
let fuzzKeyFile: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vault-fuzz-\(getpid()).key").path
    // A fixed key, so that seed images made by `vault-fuzz keystore-seed` open in any run.
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = [UInt8](repeating: 0x42, count: 32).withUnsafeBytes { write(fd, $0.baseAddress, 32) }
    close(fd)
    atexit { unlink(fuzzKeyFilePath) }
    return path
}()
nonisolated(unsafe) var fuzzKeyFilePath = ""

/// Runs async keystore calls to completion from the synchronous fuzz callback.
func blocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task { await body(); done.signal() }
    done.wait()
}

func fuzzKeystore(_ input: [UInt8]) {
    let keyFile = fuzzKeyFile
    blocking {
        guard let store = try? await Keystore.open(storage: MemoryKeystoreStorage(image: input), unlock: .keyFile(path: keyFile)),
              let entries = try? await store.list() else {
            // Replaying the seeds (scripts/fuzz --replay) checks that they still open.
            require(ProcessInfo.processInfo.environment["VAULT_FUZZ_SEEDS_OPEN"] == nil, "a keystore seed opens")
            return
        }
        for e in entries { _ = try? await store.history(e.label) }
        _ = try? await store.identities()
        _ = try? await store.unlockMethods()
        _ = try? await store.setting("policy")
        _ = try? await store.verify()
    }
}

/// Writes a seed image for the keystore target: a key-file keystore with two entries in the
/// tail; with `snapshot`, also a snapshot over entries, a removal, a replaced version, a token
/// state and a setting after it.
func makeKeystoreSeed(_ path: String, snapshot: Bool) {
    let keyFile = fuzzKeyFile
    blocking {
        let storage = MemoryKeystoreStorage()
        let store = try! await Keystore.create(storage: storage, protection: .keyFile(path: keyFile))
        func entry(_ label: String) -> KeystoreEntry {
            let fields = [CredentialField(name: "client_id", value: try! SecretBytes(Array("1c07724e-cc1b-9ff3-2f42-4a50582c18c9".utf8))),
                          CredentialField(name: "client_secret", value: try! SecretBytes(Array("EKKQh8KqRptS".utf8)))]
            return KeystoreEntry(label: label, type: "exact-online", fields: fields, blobID: Handoff.newCode(),
                                 created: "2026-11-23T12:00:00Z", expires: "2099-12-31T00:00:00Z", opened: "2026-11-23T12:00:00Z")
        }
        for label in ["Acme BV", "Bäckerei"] { try! await store.insert(entry(label)) }
        if snapshot {
            try! await store.insert(entry("Gone"))
            try! await store.compact()
            try! await store.remove("Gone")
            try! await store.insert(entry("Acme BV"), replace: true)
            _ = try! await store.withTokenLease("Bäckerei") { _ in
                TokenState(refreshToken: try SecretBytes(Array("r".utf8)), accessToken: try SecretBytes(Array("a".utf8)),
                           accessTokenExpires: "2026-11-24T00:10:00Z")
            }
            try! await store.setSetting("policy", to: "strict")
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(storage.image))
    }
}

let targets: [String: ([UInt8]) -> Void] = [
    "blob": fuzzBlob, "payload": fuzzPayload, "bech32": fuzzBech32, "request": fuzzRequest, "keystore": fuzzKeystore,
]

var arguments = CommandLine.arguments
fuzzKeyFilePath = fuzzKeyFile
if arguments.count >= 3, arguments[1] == "keystore-seed" {
    makeKeystoreSeed(arguments[2], snapshot: arguments.count > 3 && arguments[3] == "--snapshot")
    exit(0)
}
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    FileHandle.standardError.write(Data("usage: vault-fuzz \(targets.keys.sorted().joined(separator: "|")) [libFuzzer flags] [corpus…]\n".utf8))
    exit(2)
}
nonisolated(unsafe) var selected = target
arguments.remove(at: 1)
var cArguments = arguments.map { strdup($0) }
let status = vault_fuzz_run(Int32(cArguments.count), &cArguments) { data, size in
    selected(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
exit(status)
