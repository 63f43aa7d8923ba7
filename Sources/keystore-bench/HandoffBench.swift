// VaultKit's own rates, for the rows of scripts/bench that compare them with raw libsodium and
// PyNaCl on the same payload (docs/PERFORMANCE.md).
import Foundation
import VaultKit

/// The key pair of a secret key given in hex, and the payload of the armored blob sealed to it.
private func vector(_ armoredFile: String, _ secretKeyHex: String) throws -> (text: [UInt8], key: KeyPair, payload: Payload) {
    let text = Array(try String(contentsOfFile: armoredFile, encoding: .utf8).utf8)
    var bytes: [UInt8] = []
    var hex = secretKeyHex.utf8.makeIterator()
    while let h = hex.next(), let l = hex.next() { bytes.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!) }
    let key = try KeyPair(secretKey: try SecretBytes(bytes))
    // Opened at its creation time, so an expiry in the past does not matter.
    guard case .success(let opened) = Handoff.open(text, keys: [key], now: UTCTime(seconds: 0), allowExpired: true).first?.result else {
        throw CocoaError(.fileReadCorruptFile)
    }
    return (text, key, opened.payload)
}

/// Calls `body` back to back for about `seconds` and returns calls per second.
private func rate(_ seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    var n = 0
    let start = seconds_()
    var t = 0.0
    repeat {
        for _ in 0..<16 { try body() }
        n += 16
        t = seconds_() - start
    } while t < seconds
    return Double(n) / t
}

private func seconds_() -> Double { seconds() }

/// `--handoff ARMORED_FILE SECRET_KEY_HEX SECONDS`: prints "OPEN_PER_S SEAL_PER_S".
/// Open is `Handoff.open` of the armored text: armor, base64, frame, crypto_box_seal_open, payload
/// parse and every check of FORMAT.md §6 up to expiry. Seal is `Handoff.seal` of the same payload:
/// validation, encoding, crypto_box_seal, armor.
func handoffBench(_ args: [String]) throws {
    guard args.count == 3, let seconds = Double(args[2]) else { fatalError("usage: --handoff ARMORED_FILE SECRET_KEY_HEX SECONDS") }
    let v = try vector(args[0], args[1])
    let now = UTCTime(seconds: 0)
    let openRate = rate(seconds) {
        guard case .success = Handoff.open(v.text, keys: [v.key], now: now, allowExpired: true)[0].result else { fatalError("open failed") }
    }
    let sealRate = try rate(seconds) { _ = try Handoff.seal(v.payload, to: v.key.publicKey) }
    print(String(format: "%.1f %.1f", openRate, sealRate))
}

/// `--seal-blobs ARMORED_FILE SECRET_KEY_HEX RECIPIENT DIR COUNT`: writes DIR/blob-N.vault for
/// N in 0..<COUNT, each the vector's payload with its own id and label, sealed to RECIPIENT.
func sealBlobs(_ args: [String]) throws {
    guard args.count == 5, let count = Int(args[4]) else { fatalError("usage: --seal-blobs ARMORED_FILE SECRET_KEY_HEX RECIPIENT DIR COUNT") }
    var payload = try vector(args[0], args[1]).payload
    let recipient = try PublicKey(bytes: try Bech32.decode(args[2], hrp: KeyText.recipientHRP, byteCount: KeyText.keyByteCount))
    payload.recipient = recipient.fingerprint
    payload.created = Handoff.now().adding(seconds: -60)
    payload.expires = Handoff.now().adding(seconds: 30 * 86400)
    for n in 0..<count {
        payload.id = Handoff.newCode()
        payload.label = String(format: "Acme BV %06d", n)
        try Handoff.seal(payload, to: recipient).write(toFile: args[3] + "/blob-\(n).vault", atomically: false, encoding: .utf8)
    }
}

/// `--argon2 PROFILE REPEATS`: the median wall time in seconds of one Argon2id derivation at
/// the profile's limits (what unlocking a passphrase keystore costs).
func argon2Bench(_ args: [String]) throws {
    guard args.count == 2, let profile = KDFProfile(rawValue: args[0]), let repeats = Int(args[1]) else {
        fatalError("usage: --argon2 interactive|moderate|sensitive REPEATS")
    }
    let passphrase = try SecretBytes(Array("correct horse battery staple".utf8))
    let salt = Random.bytes(PasswordHash.saltByteCount)
    var times: [Double] = []
    for _ in 0..<max(repeats, 1) {
        let t = seconds()
        _ = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, profile: profile, length: 32)
        times.append(seconds() - t)
    }
    print(String(format: "%.3f", times.sorted()[times.count / 2]))
}
