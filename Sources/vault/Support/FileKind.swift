import VaultKit

/// What a file holds, told by its bytes, so that a refusal can say what a file is and what the
/// option wanted instead ("--to 'acme.vault' is a text with sealed blobs, not a public key
/// file"), rather than the first rule the wrong bytes happen to break. Used on public and on
/// secret inputs alike: it only looks at markers and sizes and never returns any content.
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

    /// The kind of `bytes`, the whole file or at least its first 64 KiB.
    static func of(_ bytes: [UInt8]) -> FileKind {
        if bytes.isEmpty { return .empty }
        if bytes.starts(with: keystoreMagic) { return .keystore }
        let isText = looksLikeText(bytes)
        if bytes.count == KeyFile.byteCount && !isText { return .keyFile }
        guard isText else { return .binary }
        if KeyArgument.holdsSecretKey(bytes) { return .secretKey }
        switch TextKind.of(bytes) {
        case .blobs: return .sealedBlobs
        case .request: return .request
        case .other: break
        }
        let lines = TextLines.split(bytes).map { TextLines.clean($0) }
        if lines.contains(where: { KeyArgument.isRecipientString(String(decoding: $0, as: UTF8.self)) }) { return .publicKeyFile }
        if bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf].contains($0) }) == 0x7b { return .json }
        return .text
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

    /// Text: valid UTF-8 without NUL or other C0 controls than tab, LF, CR and form feed.
    static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        if bytes.contains(where: { $0 < 0x20 && ![0x09, 0x0a, 0x0c, 0x0d].contains($0) || $0 == 0x7f }) { return false }
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

    /// A refusal for a file of the wrong kind: what it is, and what the option wants.
    /// - Parameter name: how the file is named (`--to 'acme.vault'`).
    /// - Parameter wanted: what the option takes, with its article ("the integrator's public key file (.pub) or recipient string").
    /// - Parameter status: 1 by default: the command was well formed, the file was not what it should be.
    static func mismatch(_ name: String, is kind: FileKind, wanted: String, hints: [String] = [],
                         status: ExitStatus = .failed) -> CLIFailure {
        var all = hints
        switch kind {
        case .secretKey:
            all.append("a secret key never leaves the integrator's keystore; if it was sent to you, tell its owner")
        case .keystore:
            all.append("a keystore is given with --keystore")
        case .keyFile:
            all.append("a key file is given with --key-file")
        default: break
        }
        let what = kind == .empty ? "is empty" : "is \(kind.described)"
        return CLIFailure(message: "\(name) \(what), not \(wanted)", hints: all, status: status)
    }
}
