/// Where a keystore's bytes live (docs/KEYSTORE.md §6). The protocol is byte-level and knows
/// nothing of the format: the header, the state slots, and the frames of the log, each frame at
/// a position. Positions are byte offsets in the keystore's file image in every back end (a
/// database keeps them in a column), so the same Keystore code — snapshot, state, records —
/// runs unchanged over any back end.
///
/// Everything secret stays above this protocol: a back end only ever sees the header (public
/// slots and wrapped keys), MAC'd states, ciphertext, blinded lookup keys and index snapshots.
public protocol KeystoreStorage: AnyObject {
    /// A name for messages (a path, or a database and table). Never a secret.
    var location: String { get }

    /// Stores a new keystore: header, the state (slot A; slot B empty) and the first frames,
    /// consecutive from the log start. Never replaces one that exists.
    /// - Throws: `KeystoreError.alreadyExists`, `.io`, or the back end's own failure as `.io`.
    func create(header: [UInt8], state: [UInt8], frames: [[UInt8]]) async throws(KeystoreError)

    /// The stored header, or the first bytes of whatever is stored (at most 64 KiB), read
    /// without any lock: the KDF runs on it before a lock is taken.
    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.ownedByAnotherUser`, `.io`.
    func readHeader() async throws(KeystoreError) -> [UInt8]

    /// Runs `body` with shared (reading) or exclusive (read-modify-write) access, waited for at
    /// most a bounded time. `body` must not block for long: it runs under the lock.
    /// - Throws: `KeystoreError.lockTimeout`, `.io`, or what `body` throws.
    func withAccess<R>(exclusive: Bool,
                       _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R
}

/// What a back end does while access is held.
public protocol KeystoreStorageSession: AnyObject {
    /// The stored header: exactly its bytes for a format-2 keystore, else the first bytes
    /// stored (at most 64 KiB), for the caller to recognise.
    /// - Throws: `KeystoreError.io`.
    func header() throws(KeystoreError) -> [UInt8]

    /// The stored state slots (256 bytes each): two for a file, which alternate; a back end
    /// with transactions may keep one. A slot never written is all zero.
    /// - Throws: `KeystoreError.io`.
    func states() throws(KeystoreError) -> [[UInt8]]

    /// The stored bytes of the frames at positions `from..<to` (fewer when less is stored).
    /// - Throws: `KeystoreError.io`.
    func frames(from: Int, to: Int) throws(KeystoreError) -> [UInt8]

    /// `count` bytes from `offset` inside the frame at `position` (index snapshot pages,
    /// without reading the whole frame); fewer when less is stored.
    /// - Throws: `KeystoreError.io`.
    func bytes(ofFrameAt position: Int, offset: Int, count: Int) throws(KeystoreError) -> [UInt8]

    /// The position where stored frames end. Frames between the committed log end and here are
    /// the remains of an interrupted change.
    /// - Throws: `KeystoreError.io`.
    func storedEnd() throws(KeystoreError) -> Int

    /// Commits: drops anything stored from `position` on (an interrupted change), stores
    /// `frames` consecutively from `position`, makes them durable, then stores `state` in state
    /// slot `slot` and makes it durable. The state write is the commit: until it is durable,
    /// readers see the previous state. Exclusive sessions only.
    /// - Throws: `KeystoreError.io` (then the previous state is still the committed one).
    func commit(frames: [[UInt8]], at position: Int, state: [UInt8], slot: Int) throws(KeystoreError)

    /// Replaces the whole keystore (a rewrite: compaction, re-key, migration) so that a reader
    /// sees the old or the new one, never a mix. Exclusive sessions only.
    /// - Throws: `KeystoreError.io`.
    func replaceAll(header: [UInt8], state: [UInt8], frames: [[UInt8]]) throws(KeystoreError)

    /// Every stored byte as one file image (reading a format-1 keystore to migrate it).
    /// - Throws: `KeystoreError.io`.
    func storedImage() throws(KeystoreError) -> [UInt8]
}

/// The file image layout the file and memory back ends share: header, two 256-byte state slots,
/// then the frames. Only the header's length field (bytes 10–13 of a format-2 header) is read.
enum ImageLayout {
    static let stateSlots = 2

    /// The header length of a format-2 image from its first 14 bytes, or nil when the bytes are
    /// not a format-2 header (the caller then reads a prefix and lets the parser decide).
    static func headerLength(_ prefix: [UInt8]) -> Int? {
        guard prefix.count >= 14, Array(prefix[0..<8]) == KeystoreHeader.magic, readBE16(prefix, 8) == KeystoreHeader.version else { return nil }
        let l = Int(readBE32(prefix, 10))
        return (KeystoreHeader.minByteCount...KeystoreHeader.maxByteCount).contains(l) ? l : nil
    }

    /// The image of a new keystore: header, state in slot A, slot B empty, frames.
    static func image(header: [UInt8], state: [UInt8], frames: [[UInt8]]) -> [UInt8] {
        var out = header + state + [UInt8](repeating: 0, count: KeystoreState.byteCount)
        out.reserveCapacity(out.count + frames.reduce(0) { $0 + $1.count })
        for f in frames { out += f }
        return out
    }
}
