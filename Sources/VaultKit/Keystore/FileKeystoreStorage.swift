// FoundationEssentials where it exists (Linux): the whole of Foundation (CoreFoundation, ICU)
// costs every process milliseconds of start-up (docs/PERFORMANCE.md).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The keystore as one local file plus a sidecar `<keystore>.lock` (docs/KEYSTORE.md, "Files").
/// Appends go to the end of the file and are fsynced before the call returns; compaction and
/// passphrase changes write a new file and rename it over the old one, then fsync the directory.
public final class FileKeystoreStorage: KeystoreStorage {
    /// The keystore path with symlinks resolved (so the lock and the rename act on the real file).
    public let path: String
    /// The sidecar lock file: not the keystore itself, which a rename replaces.
    public let lockPath: String
    /// How long to wait for another process's lock before `KeystoreError.lockTimeout`.
    public let lockTimeout: Double

    /// A storage for the keystore at `path`; symlinks are resolved now.
    /// - Throws: `KeystoreError.notFound` when the directory does not exist; `.io`.
    public init(path: String, lockTimeout: Double = 10) throws(KeystoreError) {
        self.path = try FileIO.resolve(path)
        self.lockPath = self.path + ".lock"
        self.lockTimeout = lockTimeout
    }

    /// The resolved path.
    public var location: String { path }

    /// Writes the whole keystore to a temporary file, fsyncs it, then links it into place, which
    /// fails if anything exists there (the O_EXCL guarantee, without a half-written keystore ever
    /// being visible), and fsyncs the directory.
    /// - Throws: `KeystoreError.alreadyExists`, `.io`.
    public func create(header: [UInt8], records: [SealedRecord]) async throws(KeystoreError) {
        var st = stat()
        if lstat(path, &st) == 0 { throw .alreadyExists(path: path) }
        let tmp = try FileIO.writeTemporary(beside: path, header + records.flatMap { $0.frame() })
        defer { unlink(tmp) }
        guard link(tmp, path) == 0 else {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw FileIO.fail("link", path)
        }
        try FileIO.syncDirectory(FileIO.split(path).dir)
    }

    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.io`.
    public func readHeader() async throws(KeystoreError) -> [UInt8] {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        _ = try FileIO.checkPrivate(fd, path)
        return try FileIO.readAll(fd, from: 0, max: KeystoreHeader.maxByteCount, path)
    }

    /// - Throws: `KeystoreError.lockTimeout`, `.notFound`, `.permissionsTooOpen`, `.io`, or what `body` throws.
    public func withAccess<R>(exclusive: Bool,
                              _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        let lockFD: Int32
        do {
            lockFD = try FileIO.open(lockPath, O_RDWR | O_CREAT, 0o600)
        } catch {
            // A reader in a directory it cannot write (a read-only mount, another user's keystore)
            // reads without the lock: appends become visible only through their commit record and
            // rewrites through one rename, so it still sees old or new state. Writers never do.
            guard !exclusive, case .io(_, _, let code) = error, [EACCES, EROFS, EPERM].contains(code) else { throw error }
            let session = try FileSession(path: path, exclusive: false)
            defer { session.close() }
            return try body(session)
        }
        defer { close(lockFD) } // closing releases the flock
        try FileIO.lock(lockFD, exclusive: exclusive, timeout: lockTimeout, lockPath)
        // Opened after the lock: a rename by the previous holder is then already visible.
        let session = try FileSession(path: path, exclusive: exclusive)
        defer { session.close() }
        return try body(session)
    }
}

/// One locked view of the keystore file.
final class FileSession: KeystoreStorageSession {
    let path: String
    let exclusive: Bool
    private var fd: Int32
    private var fileID: [UInt64]
    private var generation: [UInt64] = []
    /// End of the last committed record: where the next append goes.
    private var committedEnd: Int?

    init(path: String, exclusive: Bool) throws(KeystoreError) {
        self.path = path
        self.exclusive = exclusive
        fd = try FileIO.open(path, exclusive ? O_RDWR : O_RDONLY)
        do {
            let st = try FileIO.checkPrivate(fd, path)
            fileID = [UInt64(st.st_dev), UInt64(st.st_ino)]
        } catch { Glibc.close(fd); throw error }
        // Every writer, not only the next rewrite, removes what a killed rewrite left: otherwise
        // a `vault passwd` killed mid-write leaves a full copy of the keystore, wrapped under a
        // passphrase the user believes was never set, until the next passphrase change or
        // compaction, which may never come.
        if exclusive { removeStaleTemporaries() }
    }

    func close() { if fd >= 0 { Glibc.close(fd); fd = -1 } }

    func header() throws(KeystoreError) -> [UInt8] {
        let bytes = try FileIO.readAll(fd, from: 0, max: KeystoreHeader.maxByteCount, path)
        let h = try KeystoreHeader.parse(bytes[...], path: path)
        return Array(bytes[0..<h.byteCount])
    }

    func records(since cursor: StorageCursor?) throws(KeystoreError) -> (records: [SealedRecord], cursor: StorageCursor, restarted: Bool) {
        let head = try FileIO.readAll(fd, from: 0, max: KeystoreHeader.maxByteCount, path)
        let header = try KeystoreHeader.parse(head[...], path: path)
        // Device, inode and the header's random generation: a position is only ever applied to
        // the very file it was taken in.
        let gen = fileID + [readBE64(header.generation, 0), readBE64(header.generation, 8)]
        var start = header.byteCount
        let restarted: Bool
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIO.fail("fstat", path) }
        // A file cut below a committed position is not this generation any more: read it afresh.
        if let cursor, cursor.generation == gen, cursor.position <= Int(st.st_size) {
            start = cursor.position
            restarted = false
        } else {
            restarted = true
        }
        generation = gen
        let bytes = try FileIO.readAll(fd, from: start, path)
        let (found, committedOffset) = try SealedRecord.parseLog(bytes)
        committedEnd = start + committedOffset
        return (found, StorageCursor(generation: generation, position: start + committedOffset,
                                     interruptedBytes: bytes.count - committedOffset), restarted)
    }

    func append(_ records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
        precondition(exclusive, "append needs exclusive access")
        guard let end = committedEnd else { preconditionFailure("append before records(since:)") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIO.fail("fstat", path) }
        if Int(st.st_size) > end {
            // Drop what an interrupted writer left after the last commit.
            guard ftruncate(fd, off_t(end)) == 0 else { throw FileIO.fail("ftruncate", path) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.reduce(0) { $0 + $1.frameByteCount })
        for r in records { bytes += r.frame() }
        do {
            try FileIO.writeAll(fd, bytes, at: end, path)
            try FileIO.sync(fd, path)
        } catch {
            // A failed append (a full disk) must leave the file as it was.
            _ = ftruncate(fd, off_t(end))
            _ = fsync(fd)
            throw error
        }
        committedEnd = end + bytes.count
        return StorageCursor(generation: generation, position: end + bytes.count)
    }

    func replaceAll(header: [UInt8], records: [SealedRecord]) throws(KeystoreError) -> StorageCursor {
        precondition(exclusive, "replaceAll needs exclusive access")
        var bytes = header
        for r in records { bytes += r.frame() }
        let tmp = try FileIO.writeTemporary(beside: path, bytes)
        guard rename(tmp, path) == 0 else { let e = FileIO.fail("rename", path); unlink(tmp); throw e }
        try FileIO.syncDirectory(FileIO.split(path).dir)
        // Later calls in this session see the new file.
        close()
        fd = try FileIO.open(path, O_RDWR)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIO.fail("fstat", path) }
        fileID = [UInt64(st.st_dev), UInt64(st.st_ino)]
        let h = try KeystoreHeader.parse(header[...], path: path)
        generation = fileID + [readBE64(h.generation, 0), readBE64(h.generation, 8)]
        committedEnd = bytes.count
        return StorageCursor(generation: generation, position: bytes.count)
    }

    /// Temporary files of rewrites that a killed process left behind. Only a holder of the
    /// exclusive lock writes them, and we hold it, so any that exist are stale. (Creation writes
    /// one without the lock, but only where no keystore exists yet, and this session has opened one.)
    private func removeStaleTemporaries() {
        let (dir, name) = FileIO.split(path)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names where n.hasPrefix(name + ".tmp-") { unlink(dir + "/" + n) }
    }
}
