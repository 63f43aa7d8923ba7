/// Which records count (docs/KEYSTORE.md §2.5), from their clear headers alone, applied in
/// sequence order: later entries of a label are its newer versions; a removal drops the
/// label's versions, token state and lease; the latest token state, lease, setting and request
/// per lookup key wins; ledger and audit records always count. Identities share one lookup key
/// and are resolved per fingerprint by the keystore, which decrypts them.
struct LiveSet {
    struct LabelState {
        var versions: [FrameRef] = []
        var token: FrameRef?
        var lease: FrameRef?

        var refs: [FrameRef] { versions + [token, lease].compactMap { $0 } }
    }

    var labels: [LookupKey: LabelState] = [:]
    var ledger: [LookupKey: [FrameRef]] = [:]
    var settings: [LookupKey: FrameRef] = [:]
    var requests: [LookupKey: FrameRef] = [:]
    var identities: [FrameRef] = []
    var audit: [FrameRef] = []
    /// Bytes of records that no longer count.
    var deadBytes = 0
    var lastSequence: UInt64 = 0

    /// Adds the next record. Sequence numbers must increase strictly.
    mutating func add(_ r: FrameRef) throws(KeystoreError) {
        guard r.sequence > lastSequence else {
            throw .damaged(detail: "record \(r.sequence) at byte \(r.position) is out of order")
        }
        lastSequence = r.sequence
        switch r.type {
        case .identity: identities.append(r)
        case .entry: labels[r.key, default: LabelState()].versions.append(r)
        case .removal:
            let old = labels.removeValue(forKey: r.key) ?? LabelState()
            deadBytes += r.length + old.refs.reduce(0) { $0 + $1.length }
        case .ledger: ledger[r.key, default: []].append(r)
        case .tokenState:
            if let old = labels[r.key]?.token { deadBytes += old.length }
            labels[r.key, default: LabelState()].token = r
        case .tokenLease:
            if let old = labels[r.key]?.lease { deadBytes += old.length }
            labels[r.key, default: LabelState()].lease = r
        case .request:
            if let old = requests[r.key] { deadBytes += old.length }
            requests[r.key] = r
        case .audit: audit.append(r)
        case .setting:
            if let old = settings[r.key] { deadBytes += old.length }
            settings[r.key] = r
        case .index: deadBytes += r.length   // an older snapshot: superseded by the current one
        }
    }

    /// Every record that counts, with `identities` (the live ones, resolved by the caller),
    /// sorted as index rows are: by lookup key, then sequence.
    func rows(identities live: [FrameRef]) -> [FrameRef] {
        var out = live + audit + Array(settings.values) + Array(requests.values)
        for refs in ledger.values { out += refs }
        for s in labels.values { out += s.refs }
        return out.sorted { $0.key != $1.key ? $0.key < $1.key : $0.sequence < $1.sequence }
    }
}
