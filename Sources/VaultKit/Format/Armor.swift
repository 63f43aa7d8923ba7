/// Why an armored block was not read (FORMAT.md §4).
public enum ArmorError: Error, Equatable, Sendable {
    /// The text has no BEGIN line at all.
    case noBlock
    /// A BEGIN line with no END line after it.
    case missingEnd
    /// A second BEGIN before the END: the whole run is one refused block.
    case nestedBegin
    /// The block's body is not canonical base64.
    case base64
}

/// One block found in a text: its line number (1-based, of the BEGIN line) and its decoded bytes
/// or the reason it could not be read.
public struct ArmorBlock: Sendable {
    /// The line of the BEGIN marker, for messages.
    public let line: Int
    /// The binary contents, or why there are none.
    public let contents: Result<[UInt8], ArmorError>
}

/// The ASCII armor of sealed blobs, with e-mail's damage tolerated and everything else strict.
public enum Armor {
    /// The BEGIN line of a sealed blob.
    public static let sealedBegin = "-----BEGIN VAULT SEALED CREDENTIALS-----"
    /// The END line of a sealed blob.
    public static let sealedEnd = "-----END VAULT SEALED CREDENTIALS-----"
    /// Base64 characters per line written.
    public static let lineLength = 64

    /// The armored text of `bytes`: BEGIN, base64 in lines of 64, END, each line ending in LF.
    public static func encode(_ bytes: [UInt8]) -> String {
        let body = Base64.encodedBytes(bytes)
        var text = Array((sealedBegin + "\n").utf8)
        text.reserveCapacity(text.count + body.count + body.count / lineLength + sealedEnd.utf8.count + 2)
        for start in stride(from: 0, to: body.count, by: lineLength) {
            text += body[start..<min(start + lineLength, body.count)]
            text.append(0x0a)
        }
        text += Array((sealedEnd + "\n").utf8)
        return String(decoding: text, as: UTF8.self)
    }

    /// Every sealed block of `text`, in order. A text with no BEGIN line gives one `.noBlock`.
    public static func decode(_ text: [UInt8]) -> [ArmorBlock] {
        let begin = Array(sealedBegin.utf8), end = Array(sealedEnd.utf8)
        var blocks: [ArmorBlock] = []
        var open: (line: Int, body: [UInt8], nested: Bool)? = nil
        for (index, raw) in TextLines.split(text).enumerated() {
            let line = TextLines.clean(raw)
            if var current = open {
                if line.elementsEqual(end) {
                    let contents: Result<[UInt8], ArmorError> = current.nested
                        ? .failure(.nestedBegin)
                        : Base64.decode(current.body).map { .success($0) } ?? .failure(.base64)
                    blocks.append(ArmorBlock(line: current.line, contents: contents))
                    open = nil
                } else {
                    if line.elementsEqual(begin) { current.nested = true }
                    // White space anywhere in the body is removed before decoding.
                    current.body.append(contentsOf: line.lazy.filter { !TextLines.isWhiteSpace($0) })
                    open = current
                }
            } else if line.elementsEqual(begin) {
                open = (index + 1, [], false)
            }
        }
        if let current = open { blocks.append(ArmorBlock(line: current.line, contents: .failure(.missingEnd))) }
        if blocks.isEmpty { blocks.append(ArmorBlock(line: 0, contents: .failure(.noBlock))) }
        return blocks
    }
}

/// Lines of a received text, with what e-mail does to them undone (FORMAT.md §4).
public enum TextLines {
    /// ASCII space, tab, CR and LF: the white space of the text formats.
    public static func isWhiteSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a }

    /// The text split at LF.
    public static func split(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        text.split(separator: 0x0a, omittingEmptySubsequences: false)
    }

    /// A line without its leading run of reply quote marks and white space, nor trailing white space.
    public static func clean(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = line.drop { $0 == UInt8(ascii: ">") || isWhiteSpace($0) }
        while let last = s.last, isWhiteSpace(last) { s = s.dropLast() }
        return s
    }
}
