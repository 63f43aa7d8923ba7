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

let targets: [String: ([UInt8]) -> Void] = [
    "blob": fuzzBlob, "payload": fuzzPayload, "bech32": fuzzBech32, "request": fuzzRequest,
]

var arguments = CommandLine.arguments
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
