// FoundationEssentials where it exists (Linux): the whole of Foundation (CoreFoundation, ICU)
// costs every process milliseconds of start-up (docs/PERFORMANCE.md).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why one blob was not opened, in the order of FORMAT.md §6 (steps 1–8; the replay ledger and
/// receiver policy, steps 9–10, belong to the keystore).
public enum OpenError: Error, Sendable {
    /// Step 1: no block, no END line, or a second BEGIN inside a block.
    case armor(ArmorError)
    /// Step 1: the block is not canonical base64.
    case base64
    /// Step 2: not a vault blob.
    case magic
    /// Step 2: a version this program does not read.
    case version(found: UInt8)
    /// Step 3: total length outside the limits.
    case length(found: Int)
    /// Step 4: sealed to a key the opener does not hold; carries the blob's fingerprint.
    case noMatchingKey(Fingerprint)
    /// Step 5: the sealed box does not open: tampered or corrupted.
    case decrypt
    /// Step 6: the payload breaks a rule of §5.
    case payload(PayloadError)
    /// Step 7: the payload names another key than the header: tampered.
    case recipientMismatch(header: Fingerprint, payload: Fingerprint)
    /// Step 8: expired at the time given.
    case expired(at: UTCTime)

    /// The class name of the vectors and FORMAT.md §6.
    public var className: String {
        switch self {
        case .armor: "armor"
        case .base64: "base64"
        case .magic: "magic"
        case .version: "version"
        case .length: "length"
        case .noMatchingKey: "no_matching_key"
        case .decrypt: "decrypt"
        case .payload: "payload"
        case .recipientMismatch: "recipient_mismatch"
        case .expired: "expired"
        }
    }
}

/// A blob that opened and passed every check of §6 up to the keystore's.
public struct OpenedBlob {
    /// The validated payload; its secrets are in secret memory.
    public let payload: Payload
    /// The key it was sealed to (header and payload agree).
    public let fingerprint: Fingerprint
    /// SHA-256 of the binary blob (what the armor's base64 holds): how an audit record names it.
    public let sha256: [UInt8]
}

/// The outcome of one block of a text, in the order the blocks appear.
public struct OpenOutcome {
    /// The line of the block's BEGIN marker (0 when the text had none).
    public let line: Int
    /// The opened blob or the first check it failed.
    public let result: Result<OpenedBlob, OpenError>
}

/// Sealing, opening and inspecting as whole operations over the format and libsodium layers.
public enum Handoff {
    /// A new random blob id / request code (32 lower-case hex digits).
    public static func newCode() -> String { Hex.encode(Random.bytes(16)) }

    /// The current UTC time, to the second.
    public static func now() -> UTCTime { UTCTime(seconds: Int64(Date().timeIntervalSince1970.rounded(.down))) }

    /// Seals `payload` to `recipient` and returns the armored text. The payload must name the
    /// recipient's fingerprint; it is validated as an opener would (a sealer never sends what
    /// an opener refuses).
    /// - Throws: `PayloadError` (a broken rule, `.tooLarge`), `SodiumError`.
    public static func seal(_ payload: Payload, to recipient: PublicKey) throws -> String {
        let fingerprint = recipient.fingerprint
        guard payload.recipient == fingerprint else {
            throw PayloadError.field(key: "recipient", rule: "must be the fingerprint of the key sealed to")
        }
        let plaintext = try PayloadCodec.encode(payload)
        let box = try SealedBox.seal(plaintext, to: recipient)
        return Armor.encode(SealedBlob(recipient: fingerprint, sealed: box).bytes)
    }

    /// Frames every block of `text` (steps 1–3 of §6), without any key: what an auditor sees.
    public static func inspect(_ text: [UInt8]) -> [(line: Int, result: Result<SealedBlob, OpenError>)] {
        Armor.decode(text).map { block in (block.line, frame(block)) }
    }

    /// Opens every block of `text` with the key pairs held, at the time `now`, each checked in
    /// the order of §6 up to expiry (skipped with `allowExpired`). Nothing here touches a disk.
    public static func open(_ text: [UInt8], keys: [KeyPair], now: UTCTime, allowExpired: Bool = false) -> [OpenOutcome] {
        Armor.decode(text).map { block in
            OpenOutcome(line: block.line, result: frame(block).flatMap { open($0, keys: keys, now: now, allowExpired: allowExpired) })
        }
    }

    /// Steps 1–3: armor, base64, magic, version, length.
    static func frame(_ block: ArmorBlock) -> Result<SealedBlob, OpenError> {
        switch block.contents {
        case .failure(.base64): return .failure(.base64)
        case .failure(let e): return .failure(.armor(e))
        case .success(let bytes):
            do throws(BlobError) {
                return .success(try SealedBlob(bytes: bytes))
            } catch {
                switch error {
                case .magic: return .failure(.magic)
                case .version(let v): return .failure(.version(found: v))
                case .length(let n): return .failure(.length(found: n))
                }
            }
        }
    }

    /// Steps 4–8 on a framed blob.
    static func open(_ blob: SealedBlob, keys: [KeyPair], now: UTCTime, allowExpired: Bool) -> Result<OpenedBlob, OpenError> {
        // The header fingerprint is not authenticated; it only picks the key, and only that key
        // is tried. The payload repeats it under the seal (step 7).
        guard let key = keys.first(where: { $0.publicKey.fingerprint == blob.recipient }) else {
            return .failure(.noMatchingKey(blob.recipient))
        }
        let plaintext: SecretBytes
        do { plaintext = try SealedBox.open(blob.sealed, with: key) } catch { return .failure(.decrypt) }
        let payload: Payload
        do throws(PayloadError) { payload = try PayloadCodec.decode(plaintext) } catch { return .failure(.payload(error)) }
        guard payload.recipient == blob.recipient else {
            return .failure(.recipientMismatch(header: blob.recipient, payload: payload.recipient))
        }
        guard now < payload.expires || allowExpired else { return .failure(.expired(at: payload.expires)) }
        return .success(OpenedBlob(payload: payload, fingerprint: blob.recipient, sha256: SHA256.hash(blob.bytes)))
    }
}
