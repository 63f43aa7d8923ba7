/// A keystore held in memory as the exact bytes of a keystore file. For fuzzing the reader
/// (unlocked with a key file, so no KDF runs), for tests, for a format-1 keystore migrated where
/// it could not be written, and as the smallest example of a `KeystoreStorage` back end. One
/// process only: its "lock" is the caller's single task.
public final class MemoryKeystoreStorage: KeystoreStorage {
    /// The keystore file's bytes: header, state slots, frames.
    public internal(set) var image: [UInt8]
    /// A name for messages.
    public let location: String
    /// When set, every change fails with this error (a migrated keystore served read-only).
    let refusal: KeystoreError?

    /// An empty storage (create a keystore in it), or one holding the bytes of a keystore file.
    public init(image: [UInt8] = []) {
        self.image = image
        location = "memory"
        refusal = nil
    }

    init(image: [UInt8], location: String, refusingChangesWith refusal: KeystoreError) {
        self.image = image
        self.location = location
        self.refusal = refusal
    }

    /// - Throws: `KeystoreError.alreadyExists` when the image is not empty.
    public func create(header: [UInt8], state: [UInt8], frames: [[UInt8]]) async throws(KeystoreError) {
        guard image.isEmpty else { throw .alreadyExists(path: location) }
        image = ImageLayout.image(header: header, state: state, frames: frames)
    }

    /// The first bytes of the image (the parser checks them).
    public func readHeader() async throws(KeystoreError) -> [UInt8] { Session(storage: self).prefix() }

    /// Runs `body` at once: memory is not shared between processes.
    /// - Throws: what `body` throws.
    public func withAccess<R>(exclusive: Bool,
                              _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        try body(Session(storage: self))
    }

    private final class Session: KeystoreStorageSession {
        let storage: MemoryKeystoreStorage
        init(storage: MemoryKeystoreStorage) { self.storage = storage }

        var image: [UInt8] { storage.image }

        func slice(_ from: Int, _ count: Int) -> [UInt8] {
            guard from >= 0, count > 0, from < image.count else { return [] }
            return Array(image[from..<min(image.count, from + min(count, image.count - from))])
        }

        func prefix() -> [UInt8] {
            if let l = ImageLayout.headerLength(slice(0, 14)) { return slice(0, l) }
            return slice(0, KeystoreHeader.maxByteCount)
        }

        func header() throws(KeystoreError) -> [UInt8] { prefix() }

        func states() throws(KeystoreError) -> [[UInt8]] {
            guard let l = ImageLayout.headerLength(slice(0, 14)) else { return [] }
            return (0..<ImageLayout.stateSlots).map { slice(l + $0 * KeystoreState.byteCount, KeystoreState.byteCount) }
        }

        func frames(from: Int, to: Int) throws(KeystoreError) -> [UInt8] { slice(from, to - from) }

        func bytes(ofFrameAt position: Int, offset: Int, count: Int) throws(KeystoreError) -> [UInt8] {
            slice(position + offset, count)
        }

        func storedEnd() throws(KeystoreError) -> Int { image.count }

        func commit(frames: [[UInt8]], at position: Int, state: [UInt8], slot: Int) throws(KeystoreError) {
            if let refusal = storage.refusal { throw refusal }
            guard let l = ImageLayout.headerLength(slice(0, 14)), position <= image.count else { throw .damaged(detail: "commit past the end") }
            storage.image.removeLast(image.count - position)
            for f in frames { storage.image += f }
            let o = l + slot * KeystoreState.byteCount
            storage.image.replaceSubrange(o..<(o + KeystoreState.byteCount), with: state)
        }

        func replaceAll(header: [UInt8], state: [UInt8], frames: [[UInt8]]) throws(KeystoreError) {
            if let refusal = storage.refusal { throw refusal }
            storage.image = ImageLayout.image(header: header, state: state, frames: frames)
        }

        func storedImage() throws(KeystoreError) -> [UInt8] { image }
    }
}
