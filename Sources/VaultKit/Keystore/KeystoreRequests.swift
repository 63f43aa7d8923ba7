/// The state a hand-off request record holds (docs/KEYSTORE.md §2.5, tag `40`).
public enum RequestState: String, Sendable, CaseIterable {
    /// Issued, not answered, not cancelled (it may have expired: `RequestInfo.status`).
    case open
    /// A blob answered it; no other blob can.
    case answered
    /// Cancelled by the integrator; no blob can answer it.
    case cancelled
}

/// A hand-off request as the keystore records it (FORMAT.md §7).
public struct RequestInfo: Sendable, Equatable {
    /// The one-time code: 32 lower-case hex digits.
    public let code: String
    /// The label a blob must carry to answer it (compared by `Label.comparisonKey`).
    public let label: String
    /// When it was issued (RFC 3339 UTC).
    public let created: String
    /// After this time no blob answers it.
    public let expires: String
    /// Its recorded state.
    public let state: RequestState
    /// The blob id of the answer, once answered.
    public let answeredBy: String?
    /// When it was answered or cancelled.
    public let changed: String?

    /// `open`, `answered`, `expired` (open, but past its expiry at `now`) or `cancelled`.
    public func status(at now: UTCTime) -> String {
        if state == .open, let e = UTCTime(exact: expires), now >= e { return "expired" }
        return state.rawValue
    }

    func encoded() throws(KeystoreError) -> SecretBytes {
        var w = RecordWriter()
        w.add(.request, code)
        w.add(.label, label)
        w.add(.created, created)
        w.add(.expires, expires)
        w.add(.requestState, state.rawValue)
        w.addIfPresent(.answeredBy, answeredBy)
        w.addIfPresent(.requestChanged, changed)
        return try w.encoded()
    }

    init(code: String, label: String, created: String, expires: String, state: RequestState, answeredBy: String?, changed: String?) {
        self.code = code; self.label = label; self.created = created; self.expires = expires
        self.state = state; self.answeredBy = answeredBy; self.changed = changed
    }

    init(decoding plaintext: SecretBytes, ref: FrameRef) throws(KeystoreError) {
        let r = try RecordReader(plaintext)
        guard let state = RequestState(rawValue: try r.requiredText(.requestState)) else {
            throw .damaged(detail: "record \(ref.sequence): unknown request state")
        }
        self.init(code: try r.requiredText(.request), label: try r.requiredText(.label), created: try r.requiredText(.created),
                  expires: try r.requiredText(.expires), state: state, answeredBy: try r.optionalText(.answeredBy),
                  changed: try r.optionalText(.requestChanged))
    }

    func with(state: RequestState, answeredBy: String? = nil, at time: String) -> RequestInfo {
        RequestInfo(code: code, label: label, created: created, expires: expires, state: state, answeredBy: answeredBy, changed: time)
    }
}

extension Keystore {
    /// The latest record of the request `code`, decrypted (its code checked against the one
    /// looked up, so a blinded-key collision never passes for it).
    func request(_ code: String, _ s: any KeystoreStorageSession) throws(KeystoreError) -> (info: RequestInfo, ref: FrameRef)? {
        guard let r = try latest(try lookupKey(.request, code), type: .request, s) else { return nil }
        let info = try RequestInfo(decoding: try open(r, s), ref: r)
        guard info.code == code else { throw .damaged(detail: "record \(r.sequence) holds another request code") }
        return (info, r)
    }

    /// Issues a hand-off request (FORMAT.md §7): a new random 16-byte code, recorded with the
    /// label and expiry, in one commit with its audit record.
    /// - Parameter label: the label the answer must carry (the CLI checks FORMAT.md's label rule).
    /// - Throws: `KeystoreError.invalidEntry` (an empty label or one with control characters, an
    ///   expiry not after now), lock and I/O errors.
    public func issueRequest(label: String, expires: UTCTime) async throws(KeystoreError) -> RequestInfo {
        let now = Timestamp.now()
        guard !label.isEmpty, !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidEntry(detail: "a request's label must not be empty or hold control characters")
        }
        guard expires > UTCTime(exact: now)! else { throw .invalidEntry(detail: "a request's expiry must be after now") }
        // 128 random bits: an outsider cannot guess a code that answers a request.
        let code = Hex.encode(Random.bytes(16))
        let info = RequestInfo(code: code, label: Label.normalized(label), created: now, expires: expires.text, state: .open,
                               answeredBy: nil, changed: nil)
        let key = try lookupKey(.request, code)
        let plain = try info.encoded()
        try await write { (s) throws(KeystoreError) -> Void in
            try commit([NewRecord(type: .request, key: key, plaintext: plain)], dead: 0,
                       audit: .requestIssued(code: code, label: info.label, expires: info.expires), in: s)
        }
        return info
    }

    /// Cancels an open request: no blob answers it afterwards.
    /// - Throws: `KeystoreError.noSuchRequest`, `.requestAnswered` or `.requestCancelled` (it is
    ///   not open), lock and I/O errors.
    @discardableResult
    public func cancelRequest(code: String) async throws(KeystoreError) -> RequestInfo {
        guard isBlobID(code) else { throw .noSuchRequest(code: code) }
        let key = try lookupKey(.request, code)
        return try await write { (s) throws(KeystoreError) -> RequestInfo in
            guard let (info, ref) = try request(code, s) else { throw .noSuchRequest(code: code) }
            switch info.state {
            case .answered: throw .requestAnswered(code: code, label: info.label, at: info.changed ?? "")
            case .cancelled: throw .requestCancelled(code: code, label: info.label, at: info.changed ?? "")
            case .open: break
            }
            let cancelled = info.with(state: .cancelled, at: Timestamp.now())
            try commit([NewRecord(type: .request, key: key, plaintext: try cancelled.encoded())], dead: ref.length,
                       audit: .requestCancelled(code: code, label: info.label), in: s)
            return cancelled
        }
    }

    /// Every request the keystore recorded, oldest first.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func requests() async throws(KeystoreError) -> [RequestInfo] {
        try await read { (s) throws(KeystoreError) -> [RequestInfo] in
            var set = LiveSet()
            for r in try current().allRefs(s) { try set.add(r) }
            var out: [RequestInfo] = []
            for r in set.requests.values { out.append(try RequestInfo(decoding: try open(r, s), ref: r)) }
            return out.sorted { ($0.created, $0.code) < ($1.created, $1.code) }
        }
    }

    /// Checks that `entry` answers the request its blob names, under the commit's lock: a code
    /// this keystore issued, still open, not past its expiry, with that label (compared by the
    /// label's comparison form, the label sealed in the blob). `codes` are the codes answered
    /// earlier in the same batch. Without a code, the entry passes unless `required`.
    /// - Returns: the request as answered, to record with the entry; nil without a code.
    /// - Throws: `.requestRequired`, `.unknownRequest`, `.requestAnswered`, `.requestCancelled`,
    ///   `.requestLabelMismatch`, `.requestExpired`.
    func answer(_ entry: KeystoreEntry, required: Bool, requiredBySetting: Bool, batchCodes: Set<String>,
                _ s: any KeystoreStorageSession) throws(KeystoreError) -> (info: RequestInfo, replacing: FrameRef)? {
        guard let code = entry.request else {
            if required { throw .requestRequired(label: entry.label, bySetting: requiredBySetting) }
            return nil
        }
        guard let (info, ref) = try request(code, s) else { throw .unknownRequest(code: code) }
        let now = Timestamp.now()
        if batchCodes.contains(code) { throw .requestAnswered(code: code, label: info.label, at: now) }
        switch info.state {
        case .answered: throw .requestAnswered(code: code, label: info.label, at: info.changed ?? "")
        case .cancelled: throw .requestCancelled(code: code, label: info.label, at: info.changed ?? "")
        case .open: break
        }
        let sealed = entry.origin?.label ?? entry.label
        guard Label.comparisonKey(sealed) == Label.comparisonKey(info.label) else {
            throw .requestLabelMismatch(code: code, requested: info.label, sealed: sealed)
        }
        // Strictly before the expiry: at the expiry the integrator no longer accepts (FORMAT.md §7).
        guard let expires = UTCTime(exact: info.expires), UTCTime(exact: now)! < expires else {
            throw .requestExpired(code: code, label: info.label, expired: info.expires)
        }
        return (info.with(state: .answered, answeredBy: entry.blobID, at: now), ref)
    }
}
