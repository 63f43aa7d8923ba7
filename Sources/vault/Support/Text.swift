import Glibc

/// The few string and path operations the CLI needs, without Foundation: linking Foundation
/// (CoreFoundation and ICU) cost every vault process several milliseconds of start-up, more than
/// all its own work for most commands (docs/PERFORMANCE.md, "Start-up").
enum Text {
    /// `s` without leading and trailing white space (and line ends, when `newlines`).
    static func trimmed(_ s: String, newlines: Bool = true) -> String {
        func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || (newlines && c.isNewline) || (c.isWhitespace && !c.isNewline) }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(s[first...last])
    }
}

/// Paths as plain strings (POSIX rules, no file system access).
enum Path {
    /// The helper program `name` in the directory of the running binary (symlinks resolved), so
    /// it is always the one installed with this very vault; nil when there is none to run.
    static func besideThisProgram(_ name: String) -> String? {
        guard let exe = realpath("/proc/self/exe", nil) else { return nil }
        defer { free(exe) }
        let path = directory(of: String(cString: exe)) + "/" + name
        return access(path, X_OK) == 0 ? path : nil
    }

    /// The folder a path names its last component in: `a/b` → `a`, `/b` → `/`, `b` → `.`.
    static func directory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        var dir = p[..<slash]
        while dir.count > 1 && dir.hasSuffix("/") { dir = dir.dropLast() }
        return dir.isEmpty ? "/" : String(dir)
    }

    /// The last component: `a/b` → `b`, `a/b/` → `b`.
    static func lastComponent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/"), p.count > 1 else { return String(p) }
        return String(p[p.index(after: slash)...])
    }
}
