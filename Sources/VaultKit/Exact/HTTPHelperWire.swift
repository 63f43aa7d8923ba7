/// The pipe protocol between `vault` and its `vault-http` helper, which makes the one POST
/// (so the `vault` binary never loads the HTTP client's libraries). Request on the helper's
/// standard input, answer on its standard output; bodies in secret memory, nothing secret in
/// the header lines:
///
///     request:  "vault-http/1\n" "url URL\n" "timeout-ms N\n" "body N\n" BODY
///     answer:   "vault-http/1 ok STATUS N\n" BODY
///               "vault-http/1 not-sent REASON\n" | "vault-http/1 no-answer REASON\n"
public enum HTTPHelperWire {
    /// The largest message accepted either way: a header line and a body of at most 1 MiB.
    public static let maximumMessage = (1 << 20) + 4096
    static let magic = "vault-http/1"

    /// A request's bytes, in secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func encode(_ r: ExactHTTPRequest) throws(SodiumError) -> SecretBytes {
        let head = Array("\(magic)\nurl \(r.url)\ntimeout-ms \(Int(r.timeout * 1000))\nbody \(r.body.count)\n".utf8)
        return try join(head, r.body)
    }

    /// Reads a request; nil when it is not one (a bug or a stranger on the pipe).
    public static func decodeRequest(_ message: SecretBytes) -> ExactHTTPRequest? {
        guard let (lines, body) = split(message, lines: 4), lines[0] == magic,
              lines[1].hasPrefix("url "), lines[2].hasPrefix("timeout-ms "), lines[3].hasPrefix("body "),
              let ms = Int(lines[2].dropFirst(11)), ms > 0, Int(lines[3].dropFirst(5)) == body.count else { return nil }
        return ExactHTTPRequest(url: String(lines[1].dropFirst(4)), body: body, timeout: Double(ms) / 1000)
    }

    /// An answer's bytes, in secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func encode(_ result: Result<ExactHTTPAnswer, ExactTransportError>) throws(SodiumError) -> SecretBytes {
        switch result {
        case .success(let a): return try join(Array("\(magic) ok \(a.status) \(a.body.count)\n".utf8), a.body)
        case .failure(.notSent(let reason)): return try SecretBytes(Array("\(magic) not-sent \(reason)\n".utf8))
        case .failure(.noAnswer(let reason)): return try SecretBytes(Array("\(magic) no-answer \(reason)\n".utf8))
        case .failure(.unavailable(let detail)): return try SecretBytes(Array("\(magic) not-sent \(detail)\n".utf8))
        }
    }

    /// Reads an answer. An answer that is not one means the helper died mid-way: the request
    /// may have left, so it reads as `noAnswer`.
    public static func decodeAnswer(_ message: SecretBytes) -> Result<ExactHTTPAnswer, ExactTransportError> {
        guard let (lines, body) = split(message, lines: 1) else { return .failure(.noAnswer(reason: "helper-stopped")) }
        let words = lines[0].split(separator: " ").map(String.init)
        guard words.count >= 3, words[0] == magic else { return .failure(.noAnswer(reason: "helper-stopped")) }
        let reason = words[2].filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        switch words[1] {
        case "ok":
            guard words.count == 4, let status = Int(words[2]), (100...999).contains(status), Int(words[3]) == body.count else {
                return .failure(.noAnswer(reason: "helper-stopped"))
            }
            return .success(ExactHTTPAnswer(status: status, body: body))
        case "not-sent": return .failure(.notSent(reason: reason))
        case "no-answer": return .failure(.noAnswer(reason: reason))
        default: return .failure(.noAnswer(reason: "helper-stopped"))
        }
    }

    private static func join(_ head: [UInt8], _ body: SecretBytes) throws(SodiumError) -> SecretBytes {
        let out = try SecretBytes(count: head.count + body.count)
        out.withUnsafeMutableBytes { o in
            head.withUnsafeBytes { o.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: head.count) }
            body.withUnsafeBytes { if body.count > 0 { (o.baseAddress! + head.count).copyMemory(from: $0.baseAddress!, byteCount: body.count) } }
        }
        return out
    }

    /// The first `lines` LF-terminated public lines and the rest, in secret memory.
    private static func split(_ message: SecretBytes, lines n: Int) -> ([String], SecretBytes)? {
        message.withUnsafeBytes { b -> ([String], SecretBytes)? in
            var lines: [String] = []
            var start = 0
            while lines.count < n {
                guard let lf = b[start...].firstIndex(of: 0x0a), lf - start <= 4096 else { return nil }
                lines.append(String(decoding: b[start..<lf], as: UTF8.self))
                start = lf + 1
            }
            guard let rest = try? message.slice(start, b.count - start) else { return nil }
            return (lines, rest)
        }
    }
}
