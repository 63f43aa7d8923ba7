extension Keystore {
    /// The live records of one label: versions (oldest first), token state, lease. Every ref
    /// comes from the authenticated snapshot or tail; a record of another type under a label's
    /// lookup key is damage.
    func labelState(_ key: LookupKey, _ s: any KeystoreStorageSession) throws(KeystoreError) -> LiveSet.LabelState {
        var set = LiveSet()
        for r in try current().refs(for: key, s) {
            guard [.entry, .removal, .tokenState, .tokenLease].contains(r.type) else {
                throw .damaged(detail: "record \(r.sequence) at byte \(r.position) has a label's lookup key but type \(r.type.rawValue)")
            }
            try set.add(r)
        }
        return set.labels[key] ?? LiveSet.LabelState()
    }

    /// The label a blob id was stored under, read from its (decrypted) ledger record.
    func ledgerLabel(_ key: LookupKey, _ s: any KeystoreStorageSession) throws(KeystoreError) -> String? {
        guard let r = try current().refs(for: key, s).first else { return nil }
        guard r.type == .ledger else { throw .damaged(detail: "record \(r.sequence) at byte \(r.position) has a blob id's lookup key but is not a ledger record") }
        return try RecordReader(try open(r, s)).requiredText(.label)
    }

    /// Every entry's current version without its credential values, sorted by label. Read a
    /// value with `entry(_:)`.
    /// - Throws: `KeystoreError.damaged` when a record does not authenticate; lock and I/O errors.
    public func list() async throws(KeystoreError) -> [KeystoreEntrySummary] {
        try await read { (s) throws(KeystoreError) -> [KeystoreEntrySummary] in
            var set = LiveSet()
            for r in try current().allRefs(s) { try set.add(r) }
            var out: [KeystoreEntrySummary] = []
            out.reserveCapacity(set.labels.count)
            for state in set.labels.values {
                guard let last = state.versions.last else { continue }
                out.append(try KeystoreEntrySummary(decoding: try open(last, s), versions: state.versions.count))
            }
            return out.sorted { $0.label < $1.label }
        }
    }

    /// The current version of the entry `label` (compared by `Label.comparisonKey`).
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func entry(_ label: String) async throws(KeystoreError) -> KeystoreEntry {
        let key = try labelKey(label)
        return try await read { (s) throws(KeystoreError) -> KeystoreEntry in
            guard let last = try labelState(key, s).versions.last else { throw .noSuchEntry(label: label) }
            return try decodeEntry(last, label, s)
        }
    }

    /// Every stored version of the entry `label`, oldest first; the last is the current one.
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func history(_ label: String) async throws(KeystoreError) -> [KeystoreEntry] {
        let key = try labelKey(label)
        return try await read { (s) throws(KeystoreError) -> [KeystoreEntry] in
            let versions = try labelState(key, s).versions
            guard !versions.isEmpty else { throw .noSuchEntry(label: label) }
            var out: [KeystoreEntry] = []
            for r in versions { out.append(try decodeEntry(r, label, s)) }
            return out
        }
    }

    private func decodeEntry(_ r: FrameRef, _ label: String, _ s: any KeystoreStorageSession) throws(KeystoreError) -> KeystoreEntry {
        let e = try KeystoreEntry(decoding: try open(r, s))
        // A blinded-key collision never passes for this label.
        guard Label.comparisonKey(e.label) == Label.comparisonKey(label) else { throw .damaged(detail: "record \(r.sequence) holds another label") }
        return e
    }

    /// The label a blob id was stored under, if it is in the replay ledger (removed entries'
    /// ids stay there).
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func ledgerLabel(blobID: String) async throws(KeystoreError) -> String? {
        let key = try lookupKey(.blob, blobID)
        return try await read { (s) throws(KeystoreError) -> String? in try ledgerLabel(key, s) }
    }

    /// Stores `entry` durably, with its blob id in the replay ledger, in one commit.
    /// - Parameter replace: whether an entry with the same label may be superseded; the earlier
    ///   version stays readable in `history`.
    /// - Throws: `KeystoreError.invalidEntry`, `.replay` (the blob id is in the ledger, named with
    ///   the label it was stored under), `.labelInUse`, lock and I/O errors. Nothing is written
    ///   when it throws.
    /// - Returns: whether an earlier version with this label was kept as history (only with
    ///   `replace`), decided under the same lock as the insert.
    @discardableResult
    public func insert(_ entry: KeystoreEntry, replace: Bool = false) async throws(KeystoreError) -> Bool {
        try await insert(contentsOf: [entry], replace: replace)[0]
    }

    /// Stores many entries with one lock and one commit (a bulk load): all are checked first,
    /// and either all are stored or none.
    /// - Throws: as `insert(_:replace:)`, for the first entry that fails.
    /// - Returns: for each entry, whether it superseded an earlier version (kept as history).
    @discardableResult
    public func insert(contentsOf entries: [KeystoreEntry], replace: Bool = false) async throws(KeystoreError) -> [Bool] {
        var out: [Bool] = []
        for r in try await store(entries, replace: replace, allOrNothing: true) {
            switch r {
            case .success(let b): out.append(b)
            case .failure(let e): throw e
            }
        }
        return out
    }

    /// Stores many entries with one lock and one durable commit, each with its own outcome: a
    /// refused entry (invalid, a replay, a label in use) changes nothing and does not stop the
    /// others (batch `vault open`).
    /// - Parameter replace: as for `insert(_:replace:)`, for every entry.
    /// - Returns: per entry, in order: `.success(true)` when an earlier version was kept as
    ///   history, `.success(false)` when stored without superseding anything, or `.failure` with
    ///   the reason it was refused. Every stored entry is durable when this returns.
    /// - Throws: lock and I/O errors (then nothing was stored).
    public func store(_ entries: [KeystoreEntry], replace: Bool = false) async throws(KeystoreError) -> [Result<Bool, KeystoreError>] {
        try await store(entries, replace: replace, allOrNothing: false)
    }

    private func store(_ entries: [KeystoreEntry], replace: Bool, allOrNothing: Bool) async throws(KeystoreError) -> [Result<Bool, KeystoreError>] {
        var prepared: [Result<(label: LookupKey, blob: LookupKey, entry: KeystoreEntry), KeystoreError>] = []
        for e in entries {
            do throws(KeystoreError) {
                try e.validate()
                var n = e
                n.label = Label.normalized(e.label)
                prepared.append(.success((try labelKey(n.label), try lookupKey(.blob, n.blobID), n)))
            } catch {
                if allOrNothing { throw error }
                prepared.append(.failure(error))
            }
        }
        return try await write { (s) throws(KeystoreError) -> [Result<Bool, KeystoreError>] in
            var batchLabels = Set<LookupKey>()
            var batchBlobs: [LookupKey: String] = [:]
            var outcomes: [Result<Bool, KeystoreError>] = []
            var batch = beginCommit()
            for item in prepared {
                guard case .success(let p) = item else { outcomes.append(item.map { _ in false }); continue }
                // The ledger first, whatever the options: a blob is never stored twice.
                var earlier = batchBlobs[p.blob]
                if earlier == nil { earlier = try ledgerLabel(p.blob, s) }
                if let label = earlier {
                    let e = KeystoreError.replay(blobID: p.entry.blobID, label: label)
                    if allOrNothing { throw e }
                    outcomes.append(.failure(e))
                    continue
                }
                var inUse = batchLabels.contains(p.label)
                if !inUse { inUse = !(try labelState(p.label, s).versions.isEmpty) }
                if inUse && !replace {
                    let e = KeystoreError.labelInUse(label: p.entry.label)
                    if allOrNothing { throw e }
                    outcomes.append(.failure(e))
                    continue
                }
                batchLabels.insert(p.label)
                batchBlobs[p.blob] = p.entry.label
                var ledger = RecordWriter()
                ledger.add(.blobID, p.entry.blobID)
                ledger.add(.label, p.entry.label)
                ledger.add(.stored, p.entry.opened)
                if let r = p.entry.request { ledger.add(.request, r) }
                try add(NewRecord(type: .entry, key: p.label, plaintext: try p.entry.encoded()), to: &batch)
                try add(NewRecord(type: .ledger, key: p.blob, plaintext: try ledger.encoded()), to: &batch)
                outcomes.append(.success(inUse))
            }
            if !batch.isEmpty { try finish(batch, in: s) }
            return outcomes
        }
    }

    /// Removes the entry `label`, its history, token state and lease; its blob ids stay in the
    /// replay ledger.
    /// - Throws: `KeystoreError.noSuchEntry`, lock and I/O errors.
    public func remove(_ label: String) async throws(KeystoreError) {
        let key = try labelKey(label)
        try await write { (s) throws(KeystoreError) in
            let state = try labelState(key, s)
            guard let last = state.versions.last else { throw .noSuchEntry(label: label) }
            var w = RecordWriter()
            w.add(.label, try KeystoreEntry(decoding: try open(last, s)).label)
            w.add(.created, Timestamp.now())
            let plain = try w.encoded()
            let own = FrameHeader.byteCount + plain.count + XChaCha20Poly1305.tagByteCount
            try commit([NewRecord(type: .removal, key: key, plaintext: plain)], dead: own + state.refs.reduce(0) { $0 + $1.length }, in: s)
        }
    }
}
