/// What the log says without decrypting it: records grouped by their blinded lookup keys.
/// The clear frame fields it reads are authenticated as associated data when a record is
/// opened, so a damaged lookup key can hide a record but never make one read as another.
struct RecordIndex {
    static let noKey = [UInt8](repeating: 0, count: SealedRecord.lookupKeyByteCount)

    /// Everything about one label: its live versions (oldest first), token state and lease.
    struct LabelState {
        var versions: [Int] = []
        var token: Int?
        var lease: Int?
    }

    var records: [SealedRecord] = []
    var identities: [Int] = []
    var labels: [LookupKey: LabelState] = [:]
    var ledger: [LookupKey: Int] = [:]
    var settings: [LookupKey: Int] = [:]
    var lastSequence: UInt64 = 0
    /// Bytes of records that a compaction would drop.
    var deadBytes = 0
    var totalBytes = 0

    mutating func add(_ r: SealedRecord) throws(KeystoreError) {
        // Sequence numbers only grow: a record moved, repeated or spliced in is refused.
        guard r.sequence > lastSequence else { throw .damaged(detail: "record \(r.sequence) out of order") }
        guard let type = RecordType(rawValue: r.type) else { throw .damaged(detail: "unknown record type \(r.type)") }
        let i = records.count
        let key = LookupKey(r.lookupKey)
        records.append(r)
        lastSequence = r.sequence
        totalBytes += r.frameByteCount
        switch type {
        case .identity: identities.append(i)
        case .entry: labels[key, default: LabelState()].versions.append(i)
        case .removal:
            let old = labels.removeValue(forKey: key) ?? LabelState()
            deadBytes += r.frameByteCount + (old.versions + [old.token, old.lease].compactMap { $0 })
                .reduce(0) { $0 + records[$1].frameByteCount }
        case .ledger:
            ledger[key] = i
        case .tokenState:
            if let old = labels[key]?.token { deadBytes += records[old].frameByteCount }
            labels[key, default: LabelState()].token = i
        case .tokenLease:
            if let old = labels[key]?.lease { deadBytes += records[old].frameByteCount }
            labels[key, default: LabelState()].lease = i
        case .setting:
            if let old = settings[key] { deadBytes += records[old].frameByteCount }
            settings[key] = i
        case .request, .audit:
            break // defined for later issues; kept as they are
        }
    }

    /// The records a compaction keeps, in their original order (so sequence numbers still grow):
    /// identities, every ledger id, live entry versions with their history, the latest token
    /// state and lease of live labels, the latest value of each setting, requests and audit.
    var liveRecords: [Int] {
        var keep = identities + Array(ledger.values) + Array(settings.values)
        for s in labels.values { keep += s.versions + [s.token, s.lease].compactMap { $0 } }
        for (i, r) in records.enumerated() where r.type == RecordType.request.rawValue || r.type == RecordType.audit.rawValue {
            keep.append(i)
        }
        return keep.sorted()
    }
}

/// A 16-byte lookup key as two words: hashed and compared without touching the heap (a cold
/// open indexes every record of the file).
struct LookupKey: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == SealedRecord.lookupKeyByteCount, "lookup key size")
        high = readBE64(bytes, 0)
        low = readBE64(bytes, 8)
    }
}
