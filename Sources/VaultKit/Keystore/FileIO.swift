#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, checked wrappers over the POSIX calls the file back end needs. Every failure becomes
/// `KeystoreError.io` naming the call and the path.
enum FileIO {
    static func fail(_ op: String, _ path: String) -> KeystoreError { .io(operation: op, path: path, errno: errno) }

    /// The path with every symlink resolved (each symlink checked by `FileTrust`); for a file
    /// that does not exist yet, its directory's. The folder must exist and be trusted.
    /// - Throws: `KeystoreError.notFound` for a missing folder, `.ownedByAnotherUser`,
    ///   `.folderWritableByOthers`, `.io`.
    static func resolve(_ path: String) throws(KeystoreError) -> String {
        let resolved = try FileTrust.resolve(path)
        try FileTrust.checkFolder(split(resolved).dir)
        return resolved
    }

    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(KeystoreError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == ENOENT { throw .notFound(path: path) }
            if errno == EEXIST { throw .alreadyExists(path: path) }
            throw fail("open", path)
        }
        return fd
    }

    /// Refuses a file that is not a regular file the running user owns, or that group or
    /// others may access (as OpenSSH refuses such private keys).
    static func checkPrivate(_ fd: Int32, _ path: String) throws(KeystoreError) -> stat {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("fstat", path) }
        try FileTrust.checkOwner(st, path)
        guard st.st_mode & 0o077 == 0 else { throw .permissionsTooOpen(path: path, mode: UInt32(st.st_mode & 0o777)) }
        return st
    }

    /// `count` bytes at `offset` (fewer at the end of the file).
    static func read(_ fd: Int32, at offset: Int, count: Int, _ path: String) throws(KeystoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw fail("pread", path) }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeLast(count - done) }
        return out
    }

    static func size(_ fd: Int32, _ path: String) throws(KeystoreError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("fstat", path) }
        return Int(st.st_size)
    }

    static func readAll(_ fd: Int32, from offset: Int, max: Int = .max, _ path: String) throws(KeystoreError) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("fstat", path) }
        let size = Int(st.st_size) - offset > max ? offset + max : Int(st.st_size)
        guard size > offset else { return [] }
        var out = [UInt8](repeating: 0, count: size - offset)
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw fail("pread", path) }
            if n == 0 { break }
            done += n
        }
        return done == out.count ? out : Array(out[0..<done])
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, _ path: String) throws(KeystoreError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw fail("pwrite", path) }
            done += n
        }
    }

    /// Makes a file's data durable. On Linux `fdatasync`: it writes the data and what is needed
    /// to read it back (the size), skipping the modification time: a commit makes two of these,
    /// and the state write changes no size.
    static func sync(_ fd: Int32, _ path: String) throws(KeystoreError) {
        #if os(Linux)
        guard fdatasync(fd) == 0 else { throw fail("fsync", path) }
        #else
        guard fsync(fd) == 0 else { throw fail("fsync", path) }
        #endif
    }

    /// Makes a rename or link in `dir` durable.
    static func syncDirectory(_ dir: String) throws(KeystoreError) {
        let fd = try open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw fail("fsync", dir) }
    }

    /// Writes `bytes` to a new temporary file beside `path` (O_EXCL, 0600) and fsyncs it.
    /// Returns the temporary path; the caller links or renames it into place.
    static func writeTemporary(beside path: String, _ bytes: [UInt8]) throws(KeystoreError) -> String {
        let hex = Random.bytes(8).map { String($0, radix: 16) }.joined()
        let tmp = path + ".tmp-" + hex
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        do {
            try writeAll(fd, bytes, at: 0, tmp)
            try sync(fd, tmp)
        } catch {
            close(fd); unlink(tmp); throw error
        }
        guard close(fd) == 0 else { unlink(tmp); throw fail("close", tmp) }
        return tmp
    }

    /// Takes `flock` on `fd`, polling until `timeout` seconds have passed.
    static func lock(_ fd: Int32, exclusive: Bool, timeout: Double, _ path: String) throws(KeystoreError) {
        let op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        let deadline = now() + timeout
        var pause: useconds_t = 1_000
        while flock(fd, op) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw fail("flock", path) }
            guard now() < deadline else { throw .lockTimeout(path: path, seconds: timeout) }
            // Jittered back-off: contending processes do not wake in lockstep.
            usleep(pause + useconds_t.random(in: 0...pause))
            pause = min(pause * 2, 20_000)
        }
    }

    /// Wall-clock seconds since the epoch.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
