/// Where the keystore's bytes live. The file back end (`FileKeystoreStorage`) is the one of v1;
/// a network back end (PostgreSQL, a later issue) implements the same protocol: it stores the
/// header and the sealed records, none of which is secret, and gives shared or exclusive access.
///
/// Everything secret stays above this protocol: a back end only ever sees ciphertext, blinded
/// lookup keys, and the header.
public protocol KeystoreStorage: AnyObject {
    /// A name for messages (a path, or a database and table). Never a secret.
    var location: String { get }

    /// Stores a new keystore. Never replaces one that exists.
    /// - Throws: `KeystoreError.alreadyExists`, `.io`, or the back end's own failure as `.io`.
    func create(header: [UInt8], records: [SealedRecord]) async throws(KeystoreError)

    /// The header bytes as stored (no lock is taken: the KDF must run before any lock).
    /// A back end may return more bytes than the header; the parser reads what it needs.
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.io`.
    func readHeader() async throws(KeystoreError) -> [UInt8]

    /// Runs `body` with shared (reading) or exclusive (read-modify-write) access, waited for at
    /// most a bounded time. `body` must not block for long: it runs under the lock.
    /// - Throws: `KeystoreError.lockTimeout`, `.io`, `.permissionsTooOpen`, or what `body` throws.
    func withAccess<R>(exclusive: Bool,
                       _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R
}

/// Where a reader has got to: which stored generation of the keystore (a compaction or passphrase
/// change makes a new one) and how far into its record log.
public struct StorageCursor: Sendable, Equatable {
    /// Identifies one generation of the stored keystore (for a file: device and inode).
    public var generation: [UInt64]
    /// Opaque position within that generation's log (for a file: a byte offset).
    public var position: Int
    /// Bytes after the last committed record when it was read: the remains of an interrupted
    /// write (a crash mid-append) or of a file cut inside its log. Ignored, and dropped by the
    /// next change; reported so that a cut file does not pass in silence.
    public var interruptedBytes: Int

    /// Creates a cursor (for storage back ends).
    public init(generation: [UInt64], position: Int, interruptedBytes: Int = 0) {
        self.generation = generation
        self.position = position
        self.interruptedBytes = interruptedBytes
    }
}

/// What a back end does while access is held.
public protocol KeystoreStorageSession {
    /// The header bytes of the generation this session sees.
    /// - Throws: `KeystoreError.io`.
    func header() throws(KeystoreError) -> [UInt8]

    /// The committed records after `cursor`, or all of them when `cursor` is nil or belongs to an
    /// older generation (`restarted` is then true). Records of an interrupted transaction at the
    /// end are not returned.
    /// - Throws: `KeystoreError.damaged` for a log that cannot be read as frames, `.truncated`, `.io`.
    func records(since cursor: StorageCursor?) throws(KeystoreError) -> (records: [SealedRecord], cursor: StorageCursor, restarted: Bool)

    /// Appends whole transactions (the last record of each carries the commit flag) after the
    /// last committed record, dropping the remains of any interrupted one, and makes them durable
    /// before returning. Exclusive sessions only.
    /// - Throws: `KeystoreError.io`.
    func append(_ records: [SealedRecord]) throws(KeystoreError) -> StorageCursor

    /// Replaces the whole keystore (compaction, passphrase change) so that a reader sees the old
    /// or the new one, never a mix. Exclusive sessions only.
    /// - Throws: `KeystoreError.io`.
    func replaceAll(header: [UInt8], records: [SealedRecord]) throws(KeystoreError) -> StorageCursor
}
