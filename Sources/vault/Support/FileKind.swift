import Glibc
import VaultKit

/// What a file holds, told by its bytes, so that a refusal can say what a file is and what the
/// option wanted instead ("--to 'acme.vault' is a text with sealed blobs, not a public key
/// file"), rather than the first rule the wrong bytes happen to break (issue 9: a blob given to
/// `--to` was "more than one recipient line in the public key file"). It reads bytes in place
/// (secret inputs stay in secret memory), looks only at markers, sizes and character classes,
/// and never returns any content.
enum FileKind: Equatable {
    /// A vault keystore (the magic `vault-ks`, docs/KEYSTORE.md §2.1).
    case keystore
    /// A key file: exactly 32 bytes that are not text (a key file is 32 random bytes).
    case keyFile
    /// A text holding a secret key's text form (`VAULT-SECRET-KEY-1…`).
    case secretKey
    /// A text with at least one sealed blob (its BEGIN line).
    case sealedBlobs
    /// A hand-off request text (its BEGIN line).
    case request
    /// A text with a line starting with `vault1`: a public key file or a recipient string.
    case publicKeyFile
    /// A text whose first non-blank character is `{`.
    case json
    /// Nothing at all.
    case empty
    /// Other text (a passphrase file, an e-mail without a blob, notes).
    case text
    /// Other bytes.
    case binary

    /// The keystore's magic, docs/KEYSTORE.md §2.1 (the constant of VaultKit's keystore header,
    /// which is internal to the library).
    static let keystoreMagic: [UInt8] = Array("vault-ks".utf8)

    /// How much of a file is enough to tell its kind.
    static let sniffLength = 64 * 1024

    /// The kind of `bytes` (a whole file, or at least its first `sniffLength` bytes).
    static func of(_ bytes: [UInt8]) -> FileKind { bytes.withUnsafeBytes { of($0) } }

    /// The kind of `bytes`, read in place.
    static func of(_ bytes: UnsafeRawBufferPointer) -> FileKind {
        if bytes.isEmpty { return .empty }
        if bytes.starts(with: keystoreMagic) { return .keystore }
        let isText = looksLikeText(bytes)
        if bytes.count == KeyFile.byteCount && !isText { return .keyFile }
        guard isText else { return .binary }
        if contains(bytes, KeyText.secretKeyHRP + "1", ignoringCase: true) { return .secretKey }
        if contains(bytes, Armor.sealedBegin) { return .sealedBlobs }
        if contains(bytes, HandoffRequest.begin) { return .request }
        if hasLine(bytes, startingWith: KeyText.recipientHRP + "1") { return .publicKeyFile }
        if bytes.first(where: { !TextLines.isWhiteSpace($0) && ![0xef, 0xbb, 0xbf].contains($0) }) == UInt8(ascii: "{") { return .json }
        return .text
    }

    /// The kind of the file at `path`, from its first `sniffLength` bytes read into secret
    /// memory (the file may be a passphrase file given to the wrong option); nil when it cannot
    /// be read as a regular file.
    static func ofFile(_ path: String) -> FileKind? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        guard let buffer = try? SecretBytes(count: min(sniffLength, max(Int(st.st_size), 1))) else { return nil }
        let count = buffer.withUnsafeMutableBytes { out -> Int in
            var done = 0
            while done < out.count {
                let n = read(fd, out.baseAddress! + done, out.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        return buffer.withUnsafeBytes { of(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    /// The kind in words, with its article, for "X is …".
    var described: String {
        switch self {
        case .keystore: "a vault keystore"
        case .keyFile: "a key file (32 bytes)"
        case .secretKey: "a secret key"
        case .sealedBlobs: "a text with sealed blobs"
        case .request: "a hand-off request"
        case .publicKeyFile: "a public key file"
        case .json: "a JSON file"
        case .empty: "empty"
        case .text: "a text file"
        case .binary: "a binary file"
        }
    }

    /// Where a file of this kind belongs, when vault takes it somewhere.
    var belongs: String? {
        switch self {
        case .keystore: "a keystore is named with --keystore"
        case .keyFile: "a key file is given with --key-file"
        case .sealedBlobs: "sealed blobs are opened with vault open, or checked with vault inspect or vault fingerprint"
        case .publicKeyFile: "a public key file is what vault seal --to takes"
        case .json: "a JSON object of credentials is what vault seal --input takes"
        case .secretKey: "a secret key never leaves the integrator's keystore; if it was sent to you, tell its owner"
        default: nil
        }
    }

    /// A refusal for a file of the wrong kind: "NAME is not WANTED: it is KIND", then where a
    /// file of that kind belongs and `hints`.
    /// - Parameter name: how the file is named (`--to 'acme.vault'`).
    /// - Parameter wanted: what the option takes, with its article ("a public key file").
    /// - Parameter status: 1 by default: the command was well formed, the file was not what it should be.
    static func mismatch(_ name: String, is kind: FileKind, wanted: String, hints: [String] = [],
                         status: ExitStatus = .failed) -> CLIFailure {
        CLIFailure(message: "\(name) is not \(wanted): it is \(kind.described)",
                   hints: hints + (kind.belongs.map { [$0] } ?? []), status: status)
    }

    /// Text: valid UTF-8 without NUL or other C0 controls than tab, LF, FF and CR, nor DEL.
    static func looksLikeText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.contains(where: { ($0 < 0x20 && ![0x09, 0x0a, 0x0c, 0x0d].contains($0)) || $0 == 0x7f }) { return false }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Whether `needle` (ASCII) occurs in `bytes`.
    private static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: String, ignoringCase: Bool = false) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        func same(_ a: UInt8, _ b: UInt8) -> Bool { ignoringCase ? a | 0x20 == b | 0x20 : a == b }
        for start in 0...(bytes.count - n.count) where same(bytes[start], n[0]) {
            if (1..<n.count).allSatisfy({ same(bytes[start + $0], n[$0]) }) { return true }
        }
        return false
    }

    /// Whether a line, after reply quote marks and white space, starts with `prefix` (any case).
    private static func hasLine(_ bytes: UnsafeRawBufferPointer, startingWith prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        var i = 0
        while i < bytes.count {
            var j = i
            while j < bytes.count, bytes[j] == UInt8(ascii: ">") || bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
            if j + p.count <= bytes.count, (0..<p.count).allSatisfy({ bytes[j + $0] | 0x20 == p[$0] | 0x20 }) { return true }
            while i < bytes.count, bytes[i] != 0x0a { i += 1 }
            i += 1
        }
        return false
    }
}
