/// A keystore held in memory as the exact bytes of a keystore file. For fuzzing the reader
/// (unlocked with a key file, so no KDF runs), for tests, and as the smallest example of a
/// `KeystoreStorage` back end. One process only: its "lock" is the caller's single task.
public final class MemoryKeystoreStorage: KeystoreStorage {
    /// The keystore file's bytes: header, then frames.
    public private(set) var image: [UInt8]
    private var generation: UInt64 = 0

    /// An empty storage (create a keystore in it), or one holding the bytes of a keystore file.
    public init(image: [UInt8] = []) {
        self.image = image
    }

    /// "memory".
    public var location: String { "memory" }

    /// - Throws: `KeystoreError.alreadyExists` when the image is not empty.
    public func create(header: [UInt8], records: [SealedRecord]) async throws(KeystoreError) {
        guard image.isEmpty else { throw .alreadyExists(path: location) }
        image = header + records.flatMap { $0.frame() }
    }

    /// The first bytes of the image (the parser checks them).
    public func readHeader() async throws(KeystoreError) -> [UInt8] {
        Array(image.prefix(KeystoreHeader.maxByteCount))
    }

    /// Runs `body` at once: memory is not shared between processes.
    /// - Throws: what `body` throws.
    public func withAccess<R>(exclusive: Bool,
                              _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try body(Session(storage: self))
    }

    private struct Session: KeystoreStorageSession {
        let storage: MemoryKeystoreStorage

        func header() throws(KeystoreError) -> [UInt8] {
            let h = try KeystoreHeader.parse(storage.image[...], path: storage.location)
            return Array(storage.image[0..<h.byteCount])
        }

        func records(since cursor: StorageCursor?) throws(KeystoreError) -> (records: [SealedRecord], cursor: StorageCursor, restarted: Bool) {
            let h = try KeystoreHeader.parse(storage.image[...], path: storage.location)
            let gen = [storage.generation]
            let restarted = cursor == nil || cursor!.generation != gen || cursor!.position > storage.image.count
            let start = restarted ? h.byteCount : cursor!.position
            let (found, length) = try SealedRecord.parseLog(Array(storage.image[start...]))
            return (found, StorageCursor(generation: gen, position: start + length,
                                         interruptedBytes: storage.image.count - start - length), restarted)
        }

        func append(_ records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
            // Drop an interrupted tail, as the file back end does.
            let h = try KeystoreHeader.parse(storage.image[...], path: storage.location)
            let (_, length) = try SealedRecord.parseLog(Array(storage.image[h.byteCount...]))
            storage.image.removeLast(storage.image.count - h.byteCount - length)
            storage.image += records.flatMap { $0.frame() }
            return StorageCursor(generation: [storage.generation], position: storage.image.count)
        }

        func replaceAll(header: [UInt8], records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
            storage.image = header + records.flatMap { $0.frame() }
            storage.generation += 1
            return StorageCursor(generation: [storage.generation], position: storage.image.count)
        }
    }
}
