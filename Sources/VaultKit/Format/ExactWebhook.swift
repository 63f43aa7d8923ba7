/// An Exact Online webhook body, `{"Content":{…},"HashCode":"…"}`, read without re-encoding
/// anything: Exact's HashCode is the HMAC-SHA256 of the `Content` value's text exactly as sent
/// (its bytes between the member's colon and the next comma or brace, without the whitespace
/// around it), so that text is located, never rebuilt. Pure: the MAC is checked by the caller
/// (`ExactWebhookVerifier`).
public struct ExactWebhookBody: Sendable {
    /// Largest body read, in bytes (Exact's notifications are a few hundred bytes).
    public static let maximumSize = 1 << 20

    /// Where the `Content` value's text lies in the body.
    public let content: Range<Int>
    /// The 32 bytes the `HashCode` hex spells (upper or lower case).
    public let hashCode: [UInt8]

    /// Reads the shape. Members other than `Content` and `HashCode` are allowed and ignored:
    /// HashCode does not cover them, so nothing of them is ever used.
    /// - Throws: `ExactWebhookError`.
    public static func parse(_ body: UnsafeRawBufferPointer) throws(ExactWebhookError) -> ExactWebhookBody {
        guard body.count <= maximumSize else { throw .tooLarge(body.count) }
        var reader = JSONReader(body)
        let members: [(key: String, value: JSONValue, text: Range<Int>)]
        do { members = try reader.parseObjectMembers() } catch { throw .json(error) }
        guard let content = members.first(where: { $0.key == "Content" }) else { throw .missing("Content") }
        guard case .object = content.value else { throw .wrongKind("Content", content.value.kind) }
        guard let hash = members.first(where: { $0.key == "HashCode" }) else { throw .missing("HashCode") }
        guard case .string(let s) = hash.value else { throw .wrongKind("HashCode", hash.value.kind) }
        guard let bytes = Hex.decode(reader.decode(s)), bytes.count == 32 else { throw .hashCodeNotHex }
        return ExactWebhookBody(content: content.text, hashCode: bytes)
    }
}

/// Why a webhook body does not have the webhook's shape. Never carries the body's values.
public enum ExactWebhookError: Error, Equatable, Sendable {
    /// Larger than `ExactWebhookBody.maximumSize` bytes.
    case tooLarge(Int)
    /// Not a JSON object (or not strict JSON: duplicate keys, invalid UTF-8, …).
    case json(JSONError)
    /// A required member is missing.
    case missing(String)
    /// A member has the wrong JSON kind (`found` is "an array", "a string", …).
    case wrongKind(String, String)
    /// HashCode is not 64 hex digits.
    case hashCodeNotHex
}
