/// Hand-off requests (FORMAT.md §7) as whole operations.
public enum HandoffRequests {
    /// Reads the request in `text` and checks that its fingerprint is the recipient's.
    /// - Throws: `RequestError`; `.fingerprint` when the two disagree.
    public static func read(_ text: [UInt8]) throws(RequestError) -> HandoffRequest {
        let (request, stated) = try HandoffRequest.parse(text)
        let actual = try! PublicKey(bytes: request.recipient).fingerprint
        guard stated == actual else {
            throw .fingerprint("states \(stated.canonical) but the recipient's is \(actual.canonical)")
        }
        return request
    }
}
