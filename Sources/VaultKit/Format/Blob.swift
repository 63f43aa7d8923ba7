/// Why a binary blob's frame was refused (FORMAT.md §6 steps 2–3).
public enum BlobError: Error, Equatable, Sendable {
    /// The first five bytes are not `vault` (or there are fewer than five).
    case magic
    /// A version this program does not read; carries the one found.
    case version(found: UInt8)
    /// The total length is outside the limits; carries the length found.
    case length(found: Int)
}

/// The binary sealed blob of FORMAT.md §4: magic, version, recipient digest, sealed box.
public struct SealedBlob: Equatable, Sendable {
    /// ASCII `vault`.
    public static let magic: [UInt8] = Array("vault".utf8)
    /// The only version this program writes and reads.
    public static let version: UInt8 = 1
    /// Bytes before the sealed box: magic, version, digest.
    public static let headerLength = 5 + 1 + Fingerprint.byteCount
    /// What a sealed box adds to its message (ephemeral key + tag). Fixed by libsodium's
    /// `crypto_box_SEALBYTES`; the Sodium layer's `SealedBox.overhead` must agree (tested).
    public static let sealOverhead = 48
    /// Smallest payload.
    public static let minimumPayload = 2
    /// Largest payload: a sealer refuses more.
    public static let maximumPayload = 16384
    /// Smallest whole blob (86 + 2).
    public static let minimumLength = headerLength + sealOverhead + minimumPayload
    /// Largest whole blob (86 + 16384).
    public static let maximumLength = headerLength + sealOverhead + maximumPayload

    /// The digest of the recipient key: not authenticated by the seal (the payload repeats it).
    public let recipient: Fingerprint
    /// The output of `crypto_box_seal`.
    public let sealed: [UInt8]

    /// A blob of a sealed box for `recipient`.
    public init(recipient: Fingerprint, sealed: [UInt8]) {
        self.recipient = recipient
        self.sealed = sealed
    }

    /// Reads the frame, in the order of §6: magic, version, length.
    /// - Throws: `BlobError`.
    public init(bytes: [UInt8]) throws(BlobError) {
        guard bytes.count >= SealedBlob.magic.count, bytes.starts(with: SealedBlob.magic) else { throw .magic }
        // Strictest reading: five bytes of magic with no version byte is a blob too short to frame.
        guard bytes.count > SealedBlob.magic.count else { throw .length(found: bytes.count) }
        let version = bytes[SealedBlob.magic.count]
        guard version == SealedBlob.version else { throw .version(found: version) }
        guard (SealedBlob.minimumLength...SealedBlob.maximumLength).contains(bytes.count) else {
            throw .length(found: bytes.count)
        }
        recipient = Fingerprint(digest: Array(bytes[6..<SealedBlob.headerLength]))
        sealed = Array(bytes[SealedBlob.headerLength...])
    }

    /// The binary blob; reading it back gives the same value, byte for byte.
    public var bytes: [UInt8] { SealedBlob.magic + [SealedBlob.version] + recipient.digest + sealed }
}
