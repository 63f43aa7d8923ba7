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

/// The keystore as one local file plus a sidecar `<keystore>.lock` (docs/KEYSTORE.md §4).
/// Commits append frames after the log end, fsync, then write a state slot and fsync; rewrites
/// write a new file and rename it over the old one, then fsync the directory.
public final class FileKeystoreStorage: KeystoreStorage {
    /// The keystore path with symlinks resolved (so the lock and the rename act on the real file).
    public let path: String
    /// The sidecar lock file: not the keystore itself, which a rename replaces.
    public let lockPath: String
    /// How long to wait for another process's lock before `KeystoreError.lockTimeout`.
    public let lockTimeout: Double

    /// A storage for the keystore at `path`. Symlinks are resolved now; each must belong to the
    /// running user or root, and the folder must be trusted (`FileTrust`).
    /// - Throws: `KeystoreError.notFound` when the directory does not exist; `.ownedByAnotherUser`,
    ///   `.folderWritableByOthers`, `.io`.
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
    public func create(header: [UInt8], state: [UInt8], frames: [[UInt8]]) async throws(KeystoreError) {
        var st = stat()
        if lstat(path, &st) == 0 { throw .alreadyExists(path: path) }
        let tmp = try FileIO.writeTemporary(beside: path, ImageLayout.image(header: header, state: state, frames: frames))
        defer { unlink(tmp) }
        guard link(tmp, path) == 0 else {
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw FileIO.fail("link", path)
        }
        try FileIO.syncDirectory(FileIO.split(path).dir)
    }

    /// - Throws: `KeystoreError.notFound`, `.permissionsTooOpen`, `.ownedByAnotherUser`, `.io`.
    public func readHeader() async throws(KeystoreError) -> [UInt8] {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        _ = try FileIO.checkPrivate(fd, path)
        return try FileSession.prefix(fd, path)
    }

    /// - Throws: `KeystoreError.lockTimeout`, `.notFound`, `.permissionsTooOpen`, `.ownedByAnotherUser`,
    ///   `.symlinkRefused`, `.io`, or what `body` throws.
    public func withAccess<R>(exclusive: Bool,
                              _ body: (any KeystoreStorageSession) throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        let lockFD: Int32
        do {
            lockFD = try openLock()
        } catch {
            // A reader in a directory it cannot write (a read-only mount, another user's folder)
            // reads without the lock: a commit becomes visible only through its state write and
            // a rewrite through one rename, so it still sees old or new state. Writers never do.
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

    /// Opens (creating if needed) the lock file: never through a symlink (O_NOFOLLOW: in a
    /// shared folder another user's symlink would make vault create or lock a file elsewhere),
    /// and only a regular file the running user owns (another user's lock file could block
    /// every command at will).
    private func openLock() throws(KeystoreError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { throw .symlinkRefused(path: lockPath) }
            throw FileIO.fail("open", lockPath)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = FileIO.fail("fstat", lockPath); close(fd); throw e }
        guard st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid() else {
            close(fd)
            throw .ownedByAnotherUser(path: lockPath, owner: UInt32(st.st_uid))
        }
        return fd
    }
}

/// One locked view of the keystore file.
final class FileSession: KeystoreStorageSession {
    let path: String
    let exclusive: Bool
    private var fd: Int32
    private var headerLength: Int?

    init(path: String, exclusive: Bool) throws(KeystoreError) {
        self.path = path
        self.exclusive = exclusive
        fd = try FileIO.open(path, exclusive ? O_RDWR : O_RDONLY)
        do { _ = try FileIO.checkPrivate(fd, path) } catch { Glibc.close(fd); throw error }
        // Every writer, not only the next rewrite, removes what a killed rewrite left: otherwise
        // a `vault passwd` killed mid-write leaves a full copy of the keystore, wrapped under a
        // passphrase the user believes was never set, until the next rewrite, which may never come.
        if exclusive { removeStaleTemporaries() }
    }

    func close() { if fd >= 0 { Glibc.close(fd); fd = -1 } }

    /// A format-2 header's exact bytes, else the first 64 KiB of the file.
    static func prefix(_ fd: Int32, _ path: String) throws(KeystoreError) -> [UInt8] {
        let head = try FileIO.read(fd, at: 0, count: 14, path)
        if let l = ImageLayout.headerLength(head) { return try FileIO.read(fd, at: 0, count: l, path) }
        return try FileIO.read(fd, at: 0, count: KeystoreHeader.maxByteCount, path)
    }

    func header() throws(KeystoreError) -> [UInt8] {
        let b = try Self.prefix(fd, path)
        headerLength = ImageLayout.headerLength(b)
        return b
    }

    func states() throws(KeystoreError) -> [[UInt8]] {
        if headerLength == nil { _ = try header() }
        guard let l = headerLength else { return [] }
        let b = try FileIO.read(fd, at: l, count: ImageLayout.stateSlots * KeystoreState.byteCount, path)
        return (0..<ImageLayout.stateSlots).map { i in
            let o = i * KeystoreState.byteCount
            return o < b.count ? Array(b[o..<min(b.count, o + KeystoreState.byteCount)]) : []
        }
    }

    func frames(from: Int, to: Int) throws(KeystoreError) -> [UInt8] { try FileIO.read(fd, at: from, count: to - from, path) }

    func bytes(ofFrameAt position: Int, offset: Int, count: Int) throws(KeystoreError) -> [UInt8] {
        try FileIO.read(fd, at: position + offset, count: count, path)
    }

    func storedEnd() throws(KeystoreError) -> Int { try FileIO.size(fd, path) }

    func commit(frames: [[UInt8]], at position: Int, state: [UInt8], slot: Int) throws(KeystoreError) {
        precondition(exclusive, "commit needs exclusive access")
        if headerLength == nil { _ = try header() }
        guard let l = headerLength else { throw .damaged(detail: "not a format-2 keystore") }
        if try FileIO.size(fd, path) > position {
            // Drop what an interrupted writer left after the log end.
            guard ftruncate(fd, off_t(position)) == 0 else { throw FileIO.fail("ftruncate", path) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frames.reduce(0) { $0 + $1.count })
        for f in frames { bytes += f }
        do {
            try FileIO.writeAll(fd, bytes, at: position, path)
            try FileIO.sync(fd, path)
        } catch {
            // A failed append (a full disk) leaves the file as it was: nothing refers to it yet.
            _ = ftruncate(fd, off_t(position))
            _ = fsync(fd)
            throw error
        }
        // The commit: the state slot, rewritten in place (no new blocks, so a full disk cannot
        // refuse it). A torn write of it leaves the other slot, the previous state, current.
        try FileIO.writeAll(fd, state, at: l + slot * KeystoreState.byteCount, path)
        try FileIO.sync(fd, path)
    }

    func replaceAll(header: [UInt8], state: [UInt8], frames: [[UInt8]]) throws(KeystoreError) {
        precondition(exclusive, "replaceAll needs exclusive access")
        let tmp = try FileIO.writeTemporary(beside: path, ImageLayout.image(header: header, state: state, frames: frames))
        guard rename(tmp, path) == 0 else { let e = FileIO.fail("rename", path); unlink(tmp); throw e }
        try FileIO.syncDirectory(FileIO.split(path).dir)
        // Later calls in this session see the new file.
        close()
        fd = try FileIO.open(path, O_RDWR)
        headerLength = nil
    }

    func storedImage() throws(KeystoreError) -> [UInt8] { try FileIO.readAll(fd, from: 0, path) }

    /// Temporary files of rewrites that a killed process left behind. Only a holder of the
    /// exclusive lock writes them, and we hold it, so any that exist are stale. (Creation writes
    /// one without the lock, but only where no keystore exists yet, and this session has opened one.)
    private func removeStaleTemporaries() {
        let (dir, name) = FileIO.split(path)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names where n.hasPrefix(name + ".tmp-") { unlink(dir + "/" + n) }
    }
}
