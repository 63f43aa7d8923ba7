extension Keystore {
    /// Every entry's current version without its credential values, sorted by label. Read a
    /// value with `entry(_:)`.
    /// - Throws: `KeystoreError.damaged` when a record does not authenticate; lock and I/O errors.
    public func list() async throws(KeystoreError) -> [KeystoreEntrySummary] {
        let current = try await read { () throws(KeystoreError) -> [(Int, Int)] in
            index.labels.values.compactMap { s in s.versions.last.map { ($0, s.versions.count) } }
        }
        var out: [KeystoreEntrySummary] = []
        out.reserveCapacity(current.count)
        for (i, n) in current { out.append(try KeystoreEntrySummary(decoding: try open(i), versions: n)) }
        return out.sorted { $0.label < $1.label }
    }

    /// The current version of the entry `label` (compared after NFC, case-sensitively).
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func entry(_ label: String) async throws(KeystoreError) -> KeystoreEntry {
        guard let last = try await history(label).last else { throw .noSuchEntry(label: label) }
        return last
    }

    /// Every stored version of the entry `label`, oldest first; the last is the current one.
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func history(_ label: String) async throws(KeystoreError) -> [KeystoreEntry] {
        let key = try labelKey(label)
        let versions = try await read { () throws(KeystoreError) -> [Int] in index.labels[LookupKey(key)]?.versions ?? [] }
        guard !versions.isEmpty else { throw .noSuchEntry(label: label) }
        var out: [KeystoreEntry] = []
        for i in versions {
            let e = try KeystoreEntry(decoding: try open(i))
            // A blinded-key collision (or a spliced record) never passes for this label.
            guard e.label == Label.normalized(label) else { throw .damaged(detail: "record \(index.records[i].sequence) holds another label") }
            out.append(e)
        }
        return out
    }

    /// The label a blob id was stored under, if it is in the replay ledger (removed entries'
    /// ids stay there).
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func ledgerLabel(blobID: String) async throws(KeystoreError) -> String? {
        let key = try blobKey(blobID)
        return try await read { () throws(KeystoreError) -> String? in try ledgerLabel(key: key) }
    }

    func ledgerLabel(key: [UInt8]) throws(KeystoreError) -> String? {
        guard let i = index.ledger[LookupKey(key)] else { return nil }
        return try RecordReader(try open(i)).requiredText(.label)
    }

    /// Stores `entry` durably, with its blob id in the replay ledger, in one transaction.
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

    /// Stores many entries with one lock and one fsync (a bulk load): all are checked first, and
    /// either all are stored or none.
    /// - Throws: as `insert(_:replace:)`, for the first entry that fails.
    /// - Returns: for each entry, whether it superseded an earlier version (kept as history).
    @discardableResult
    public func insert(contentsOf entries: [KeystoreEntry], replace: Bool = false) async throws(KeystoreError) -> [Bool] {
        var prepared: [(label: [UInt8], blob: [UInt8], entry: KeystoreEntry)] = []
        for e in entries {
            try e.validate()
            var n = e
            n.label = Label.normalized(e.label)
            prepared.append((try labelKey(n.label), try blobKey(n.blobID), n))
        }
        return try await write { (s) throws(KeystoreError) -> [Bool] in
            var batchLabels = Set<[UInt8]>()
            var superseded: [Bool] = []
            var batchBlobs: [[UInt8]: String] = [:]
            var sealed: [SealedRecord] = []
            var seq = index.lastSequence
            for p in prepared {
                if let label = try ledgerLabel(key: p.blob) ?? batchBlobs[p.blob] {
                    throw .replay(blobID: p.entry.blobID, label: label)
                }
                let inUse = !(index.labels[LookupKey(p.label)]?.versions.isEmpty ?? true) || batchLabels.contains(p.label)
                if inUse && !replace { throw .labelInUse(label: p.entry.label) }
                superseded.append(inUse)
                batchLabels.insert(p.label)
                batchBlobs[p.blob] = p.entry.label
                var ledger = RecordWriter()
                ledger.add(.blobID, p.entry.blobID)
                ledger.add(.label, p.entry.label)
                ledger.add(.stored, p.entry.opened)
                // Entry and ledger id form one transaction: the commit flag is on the second.
                seq += 1
                sealed.append(try SealedRecord.seal(try p.entry.encoded(), type: .entry, flags: 0, sequence: seq,
                                                    lookupKey: p.label, keystoreID: keystoreID, key: recordKey))
                seq += 1
                sealed.append(try SealedRecord.seal(try ledger.encoded(), type: .ledger, flags: SealedRecord.commitFlag,
                                                    sequence: seq, lookupKey: p.blob, keystoreID: keystoreID, key: recordKey))
            }
            try append(sealed, in: s)
            return superseded
        }
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
        var prepared: [Result<(label: [UInt8], blob: [UInt8], entry: KeystoreEntry), KeystoreError>] = []
        for e in entries {
            do throws(KeystoreError) {
                try e.validate()
                var n = e
                n.label = Label.normalized(e.label)
                prepared.append(.success((try labelKey(n.label), try blobKey(n.blobID), n)))
            } catch { prepared.append(.failure(error)) }
        }
        return try await write { (s) throws(KeystoreError) -> [Result<Bool, KeystoreError>] in
            var batchLabels = Set<[UInt8]>()
            var batchBlobs: [[UInt8]: String] = [:]
            var outcomes: [Result<Bool, KeystoreError>] = []
            var sealed: [SealedRecord] = []
            var seq = index.lastSequence
            for item in prepared {
                guard case .success(let p) = item else { outcomes.append(item.map { _ in false }); continue }
                if let label = try ledgerLabel(key: p.blob) ?? batchBlobs[p.blob] {
                    outcomes.append(.failure(.replay(blobID: p.entry.blobID, label: label)))
                    continue
                }
                let inUse = !(index.labels[LookupKey(p.label)]?.versions.isEmpty ?? true) || batchLabels.contains(p.label)
                if inUse && !replace { outcomes.append(.failure(.labelInUse(label: p.entry.label))); continue }
                batchLabels.insert(p.label)
                batchBlobs[p.blob] = p.entry.label
                var ledger = RecordWriter()
                ledger.add(.blobID, p.entry.blobID)
                ledger.add(.label, p.entry.label)
                ledger.add(.stored, p.entry.opened)
                seq += 1
                sealed.append(try SealedRecord.seal(try p.entry.encoded(), type: .entry, flags: 0, sequence: seq,
                                                    lookupKey: p.label, keystoreID: keystoreID, key: recordKey))
                seq += 1
                sealed.append(try SealedRecord.seal(try ledger.encoded(), type: .ledger, flags: SealedRecord.commitFlag,
                                                    sequence: seq, lookupKey: p.blob, keystoreID: keystoreID, key: recordKey))
                outcomes.append(.success(inUse))
            }
            if !sealed.isEmpty { try append(sealed, in: s) }
            return outcomes
        }
    }

    /// Removes the entry `label` and its history; its blob ids stay in the replay ledger.
    /// - Throws: `KeystoreError.noSuchEntry`, lock and I/O errors.
    public func remove(_ label: String) async throws(KeystoreError) {
        let key = try labelKey(label)
        try await write { (s) throws(KeystoreError) in
            guard !(index.labels[LookupKey(key)]?.versions.isEmpty ?? true) else { throw .noSuchEntry(label: label) }
            var w = RecordWriter()
            w.add(.label, Label.normalized(label))
            w.add(.created, Timestamp.now())
            try commit([(.removal, key, try w.encoded())], in: s)
            try compactIfWorthwhile(s)
        }
    }
}
