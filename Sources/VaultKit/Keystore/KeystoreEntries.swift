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

    /// The current version of the entry `label` (compared by `Label.comparisonKey`), or its
    /// version `version` (1 the oldest, as `history` numbers them). The read is logged: its
    /// audit record (operation `read`, `get` or `export` as `read` says, with the names of the
    /// fields handed out, never their values) is committed before the entry is returned.
    /// - Throws: `KeystoreError.noSuchEntry`, `.noSuchEntryVersion`, `.readNotLogged` (the
    ///   keystore cannot be written and unlogged reads are not allowed), `.damaged`, lock and
    ///   I/O errors.
    public func entry(_ label: String, version: Int? = nil, for read: SecretRead = .library) async throws(KeystoreError) -> KeystoreEntry {
        let key = try labelKey(label)
        return try await loggedRead { (s) throws(KeystoreError) -> (value: KeystoreEntry, event: AuditEvent?) in
            let versions = try labelState(key, s).versions
            guard let last = versions.last else { throw .noSuchEntry(label: label) }
            var ref = last
            if let version {
                guard version >= 1, version <= versions.count else {
                    throw .noSuchEntryVersion(label: label, version: version, count: versions.count)
                }
                ref = versions[version - 1]
            }
            let e = try decodeEntry(ref, label, s)
            return (e, Self.readEvent(e, by: read, version: version.map { "entry version \($0) of \(versions.count)" }))
        }
    }

    /// Every stored version of the entry `label`, oldest first; the last is the current one.
    /// Logged as `entry` is, once for all versions.
    /// - Throws: `KeystoreError.noSuchEntry`, `.readNotLogged`, `.damaged`, lock and I/O errors.
    public func history(_ label: String, for read: SecretRead = .library) async throws(KeystoreError) -> [KeystoreEntry] {
        let key = try labelKey(label)
        return try await loggedRead { (s) throws(KeystoreError) -> (value: [KeystoreEntry], event: AuditEvent?) in
            let versions = try labelState(key, s).versions
            guard !versions.isEmpty else { throw .noSuchEntry(label: label) }
            var out: [KeystoreEntry] = []
            for r in versions { out.append(try decodeEntry(r, label, s)) }
            // The union of the versions' field names, in the order first seen.
            var names: [String] = []
            for e in out { for f in e.fields where !names.contains(f.name) { names.append(f.name) } }
            let event = AuditEvent.secretsRead(label: out.last!.label, fields: names, by: read,
                                               version: "every entry version (\(out.count))")
            return (out, event)
        }
    }

    /// The audit event of handing out `e`'s values; nil when nothing secret is handed out (a
    /// `get` of a field the entry lacks).
    static func readEvent(_ e: KeystoreEntry, by read: SecretRead, version: String?) -> AuditEvent? {
        let names: [String]
        switch read {
        case .get(let field):
            guard e.field(field) != nil else { return nil }
            names = [field]
        case .library, .export: names = e.fields.map(\.name)
        }
        return .secretsRead(label: e.label, fields: names, by: read, version: version)
    }

    /// Every stored version of the entry `label` without its values (what `vault show` needs:
    /// the public fields of an Exact Online entry are in `publicFields`). Not logged: no secret.
    /// - Throws: `KeystoreError.noSuchEntry`, `.damaged`, lock and I/O errors.
    public func versions(_ label: String) async throws(KeystoreError) -> [KeystoreEntrySummary] {
        let key = try labelKey(label)
        return try await read { (s) throws(KeystoreError) -> [KeystoreEntrySummary] in
            let versions = try labelState(key, s).versions
            guard !versions.isEmpty else { throw .noSuchEntry(label: label) }
            var out: [KeystoreEntrySummary] = []
            for r in versions {
                let summary = try KeystoreEntrySummary(decoding: try open(r, s), versions: versions.count)
                guard Label.comparisonKey(summary.label) == Label.comparisonKey(label) else { throw .damaged(detail: "record \(r.sequence) holds another label") }
                out.append(summary)
            }
            return out
        }
    }

    /// The current version of `label` for VaultKit's own use of a value that never leaves it
    /// (the Exact Online broker sends the client secret to Exact and checks webhooks with the
    /// webhook secret; what it hands out, an access token, is logged as `token-read`).
    func entryForBroker(_ label: String) async throws(KeystoreError) -> KeystoreEntry {
        let key = try labelKey(label)
        return try await read { (s) throws(KeystoreError) -> KeystoreEntry in
            guard let last = try labelState(key, s).versions.last else { throw .noSuchEntry(label: label) }
            return try decodeEntry(last, label, s)
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

    /// Stores `entry` durably, with its blob id in the replay ledger and its audit record, in
    /// one commit; a blob that answers a hand-off request marks it answered in that commit too.
    /// - Parameter replace: whether an entry with the same label may be superseded; the earlier
    ///   version stays readable in `history`.
    /// - Parameter requireRequest: refuse an entry that answers no open request of this
    ///   keystore (`vault open --require-request`); the setting `require-request` set to `on`
    ///   makes every store do so.
    /// - Throws: `KeystoreError.invalidEntry`, `.replay` (the blob id is in the ledger, named with
    ///   the label it was stored under), the request refusals (`.requestRequired`,
    ///   `.unknownRequest`, `.requestAnswered`, `.requestCancelled`, `.requestLabelMismatch`,
    ///   `.requestExpired`), `.labelInUse`, lock and I/O errors. Nothing is written when it throws.
    /// - Returns: whether an earlier version with this label was kept as history (only with
    ///   `replace`), decided under the same lock as the insert.
    @discardableResult
    public func insert(_ entry: KeystoreEntry, replace: Bool = false, requireRequest: Bool = false) async throws(KeystoreError) -> Bool {
        try await insert(contentsOf: [entry], replace: replace, requireRequest: requireRequest)[0]
    }

    /// Stores many entries with one lock and one commit (a bulk load): all are checked first,
    /// and either all are stored or none.
    /// - Throws: as `insert(_:replace:requireRequest:)`, for the first entry that fails.
    /// - Returns: for each entry, whether it superseded an earlier version (kept as history).
    @discardableResult
    public func insert(contentsOf entries: [KeystoreEntry], replace: Bool = false,
                       requireRequest: Bool = false) async throws(KeystoreError) -> [Bool] {
        var out: [Bool] = []
        for r in try await store(entries, replace: replace, requireRequest: requireRequest, allOrNothing: true) {
            switch r {
            case .success(let b): out.append(b)
            case .failure(let e): throw e
            }
        }
        return out
    }

    /// Stores many entries with one lock and one durable commit, each with its own outcome: a
    /// refused entry (invalid, a replay, a request it does not answer, a label in use) changes
    /// nothing and does not stop the others (batch `vault open`). Each stored entry has its
    /// audit record (and its request, if it answers one, is marked answered) in the same commit.
    /// - Parameter replace: as for `insert(_:replace:requireRequest:)`, for every entry.
    /// - Parameter requireRequest: as for `insert`, for every entry.
    /// - Returns: per entry, in order: `.success(true)` when an earlier version was kept as
    ///   history, `.success(false)` when stored without superseding anything, or `.failure` with
    ///   the reason it was refused. Every stored entry is durable when this returns.
    /// - Throws: lock and I/O errors (then nothing was stored).
    public func store(_ entries: [KeystoreEntry], replace: Bool = false,
                      requireRequest: Bool = false) async throws(KeystoreError) -> [Result<Bool, KeystoreError>] {
        try await store(entries, replace: replace, requireRequest: requireRequest, allOrNothing: false)
    }

    private func store(_ entries: [KeystoreEntry], replace: Bool, requireRequest: Bool,
                       allOrNothing: Bool) async throws(KeystoreError) -> [Result<Bool, KeystoreError>] {
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
        let settingKey = try lookupKey(.setting, KeystoreSettingName.requireRequest)
        return try await write { (s) throws(KeystoreError) -> [Result<Bool, KeystoreError>] in
            // The keystore's own policy, read under the same lock as the stores it decides.
            let bySetting = try settingValue(settingKey, KeystoreSettingName.requireRequest, s) == "on"
            var batchLabels = Set<LookupKey>()
            var batchBlobs: [LookupKey: String] = [:]
            var batchCodes = Set<String>()
            var outcomes: [Result<Bool, KeystoreError>] = []
            var events: [AuditEvent] = []
            var batch = beginCommit()
            for item in prepared {
                guard case .success(let p) = item else { outcomes.append(item.map { _ in false }); continue }
                do throws(KeystoreError) {
                    // The ledger first, whatever the options: a blob is never stored twice.
                    var earlier = batchBlobs[p.blob]
                    if earlier == nil { earlier = try ledgerLabel(p.blob, s) }
                    if let label = earlier { throw .replay(blobID: p.entry.blobID, label: label) }
                    // Then the request, before the label: a forged answer is named as such.
                    let answered = try answer(p.entry, required: requireRequest || bySetting, requiredBySetting: bySetting && !requireRequest,
                                              batchCodes: batchCodes, s)
                    var inUse = batchLabels.contains(p.label)
                    if !inUse { inUse = !(try labelState(p.label, s).versions.isEmpty) }
                    if inUse && !replace { throw .labelInUse(label: p.entry.label) }
                    batchLabels.insert(p.label)
                    batchBlobs[p.blob] = p.entry.label
                    var ledger = RecordWriter()
                    ledger.add(.blobID, p.entry.blobID)
                    ledger.add(.label, p.entry.label)
                    ledger.add(.stored, p.entry.opened)
                    if let r = p.entry.request { ledger.add(.request, r) }
                    try add(NewRecord(type: .entry, key: p.label, plaintext: try p.entry.encoded()), to: &batch)
                    try add(NewRecord(type: .ledger, key: p.blob, plaintext: try ledger.encoded()), to: &batch)
                    events.append(.opened(label: p.entry.label, blobID: p.entry.blobID, origin: p.entry.origin, request: p.entry.request,
                                          fields: p.entry.fields.map(\.name), replaced: inUse))
                    if let answered {
                        try add(NewRecord(type: .request, key: try lookupKey(.request, answered.info.code),
                                          plaintext: try answered.info.encoded()), to: &batch)
                        batch.dead += answered.replacing.length
                        batchCodes.insert(answered.info.code)
                        events.append(.requestAnswered(code: answered.info.code, label: answered.info.label, blobID: p.entry.blobID))
                    }
                    outcomes.append(.success(inUse))
                } catch {
                    if allOrNothing { throw error }
                    outcomes.append(.failure(error))
                }
            }
            if let audit = AuditEvents(events) { try finish(batch, audit: audit, in: s) }
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
            let stored = try storedLabel(last, s)
            var w = RecordWriter()
            w.add(.label, stored)
            w.add(.created, Timestamp.now())
            let plain = try w.encoded()
            let own = FrameHeader.byteCount + plain.count + XChaCha20Poly1305.tagByteCount
            try commit([NewRecord(type: .removal, key: key, plaintext: plain)], dead: own + state.refs.reduce(0) { $0 + $1.length },
                       audit: .removed(label: stored), in: s)
        }
    }
}
