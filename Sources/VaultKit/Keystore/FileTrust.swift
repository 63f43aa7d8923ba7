#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who may change the files vault trusts (issue 8 items 8 and 11), checked as OpenSSH checks
/// its keys: the keystore, its key file and its lock file must belong to the user running
/// vault; their folder to that user or root, and not be writable by others unless it has the
/// sticky bit; every symlink on the way must belong to that user or root. Otherwise another
/// user could replace the file, or point vault at one of their own.
enum FileTrust {
    /// Symlinks followed at most, as the kernel's limit.
    static let maxLinks = 40

    /// Refuses a file that is not the running user's own.
    static func checkOwner(_ st: stat, _ path: String) throws(KeystoreError) {
        guard st.st_uid == geteuid() else { throw .ownedByAnotherUser(path: path, owner: UInt32(st.st_uid)) }
    }

    /// Walks `path` component by component, following symlinks itself: each symlink must belong
    /// to the running user or root and sit in a folder others cannot write; the folder of the
    /// final name is checked with `checkFolder`. Returns the path with every symlink resolved.
    /// A name that does not exist yet ends the walk (a file about to be created).
    static func resolve(_ path: String) throws(KeystoreError) -> String {
        var pending = split(path.hasPrefix("/") ? path : currentDirectory() + "/" + path)
        var current: [String] = []
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == "." { continue }
            if name == ".." { if !current.isEmpty { current.removeLast() }; continue }
            let next = join(current + [name])
            var st = stat()
            guard lstat(next, &st) == 0 else {
                guard errno == ENOENT else { throw FileIO.fail("lstat", next) }
                // Not there: what follows is created (or reported missing) by the caller.
                return join(current + [name] + pending)
            }
            guard st.st_mode & S_IFMT == S_IFLNK else { current.append(name); continue }
            // A symlink another user owns, or one in a folder another user may write, could be
            // pointed anywhere by them.
            guard st.st_uid == geteuid() || st.st_uid == 0 else { throw .ownedByAnotherUser(path: next, owner: UInt32(st.st_uid)) }
            try checkFolder(join(current))
            links += 1
            guard links <= maxLinks else { throw .io(operation: "resolve", path: path, errno: ELOOP) }
            let target = try readLink(next)
            if target.hasPrefix("/") { current = [] }
            pending = split(target) + pending
        }
        return join(current)
    }

    /// Refuses a folder that another user owns, or that group or others may write without the
    /// sticky bit. A group-writable folder is accepted when the group is the user's own private
    /// group with no other member (as Debian's OpenSSH accepts it).
    static func checkFolder(_ dir: String) throws(KeystoreError) {
        var st = stat()
        guard stat(dir, &st) == 0 else { throw errno == ENOENT ? .notFound(path: dir) : FileIO.fail("stat", dir) }
        guard st.st_uid == geteuid() || st.st_uid == 0 else { throw .ownedByAnotherUser(path: dir, owner: UInt32(st.st_uid)) }
        let sticky = st.st_mode & S_ISVTX != 0
        guard !sticky else { return }
        let writableByOthers = st.st_mode & S_IWOTH != 0
        let writableByGroup = st.st_mode & S_IWGRP != 0 && !isPrivateGroup(st.st_gid)
        if writableByOthers || writableByGroup { throw .folderWritableByOthers(path: dir, mode: UInt32(st.st_mode & 0o7777)) }
    }

    /// Whether `gid` is the running user's primary group with no member but the user.
    static func isPrivateGroup(_ gid: gid_t) -> Bool {
        guard let pw = getpwuid(geteuid()), pw.pointee.pw_gid == gid, let gr = getgrgid(gid) else { return false }
        let user = String(cString: pw.pointee.pw_name)
        var members = gr.pointee.gr_mem
        while let m = members?.pointee {
            if String(cString: m) != user { return false }
            members = members! + 1
        }
        return true
    }

    private static func readLink(_ path: String) throws(KeystoreError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw FileIO.fail("readlink", path) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return String(cString: p)
    }

    private static func split(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }
    private static func join(_ parts: [String]) -> String { "/" + parts.joined(separator: "/") }
}
