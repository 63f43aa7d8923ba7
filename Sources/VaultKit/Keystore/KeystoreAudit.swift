#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One record of the audit log with its hash.
public struct AuditLogEntry: Sendable, Equatable {
    /// The record.
    public let record: AuditRecord
    /// Its hash (docs/KEYSTORE.md §2.8): what the next record carries.
    public let hash: [UInt8]
}

/// The reads `Keystore.logReads` recorded: the entries that may now be read with
/// `Keystore.entry(_:logged:)` without a record each. Only the keystore makes one.
public struct LoggedReads: Sendable {
    let keystoreID: [UInt8]
    /// The labels' comparison forms.
    let labels: Set<String>
}

/// What `Keystore.verifyAuditLog` found.
public struct AuditVerification: Sendable, Equatable {
    /// Records in the keystore's log.
    public let count: UInt64
    /// The hash of the newest one (the state's).
    public let head: [UInt8]
    /// With `against`: the records the export holds.
    public let exportCount: UInt64?
    /// The first broken link, or nil when the chain (and, with an export, its extension of
    /// the export) holds.
    public let problem: AuditProblem?
}

extension Keystore {
    // MARK: Reads that write their record

    /// Reads under exclusive access and commits the audit record of the event `body` returns
    /// (nil: nothing was read, nothing to record) in the same transaction, so a read of secrets
    /// is never handed out without its record being durable first.
    ///
    /// Where the keystore cannot be written (a read-only mount, a folder of another user, a
    /// full disk, a format-1 keystore served from memory), the read fails with
    /// `readNotLogged` unless the setting `unlogged-reads` is `on`; then it is made without a
    /// record, and `unloggedReads` counts it (the CLI warns).
    func loggedRead<R>(_ body: (any KeystoreStorageSession) throws(KeystoreError) -> (value: R, event: AuditEvent?)) async throws(KeystoreError) -> R {
        try await loggedReads { (s) throws(KeystoreError) -> (value: R, events: [AuditEvent]) in
            let (value, event) = try body(s)
            return (value, event.map { [$0] } ?? [])
        }
    }

    /// `loggedRead` with any number of events, all in one commit.
    func loggedReads<R>(_ body: (any KeystoreStorageSession) throws(KeystoreError) -> (value: R, events: [AuditEvent])) async throws(KeystoreError) -> R {
        do {
            return try await write { (s) throws(KeystoreError) -> R in
                let (value, events) = try body(s)
                if let audit = AuditEvents(events) { try finish(beginCommit(), audit: audit, in: s) }
                return value
            }
        } catch {
            guard Self.cannotWrite(error) else { throw error }
            // Read with the keystore's own policy, authenticated like any setting.
            guard try await setting(KeystoreSettingName.unloggedReads) == "on" else { throw .readNotLogged(cause: error) }
            let value = try await read { (s) throws(KeystoreError) -> R in try body(s).value }
            unloggedReads += 1
            return value
        }
    }

    // MARK: Many reads, logged first

    /// Commits one audit record per entry of `labels` (its current version's field names, read
    /// without decrypting a value), in one commit, and returns the permission to read those
    /// entries with `entry(_:logged:)` without a record each: how `vault export --all` hands out
    /// every entry, one at a time, at the cost of one commit. The records come first, so no value
    /// leaves before its record is durable. A label with no entry is skipped. Where the keystore
    /// cannot be written: as `entry`.
    /// - Throws: `KeystoreError.readNotLogged`, `.damaged`, lock and I/O errors.
    public func logReads(of labels: [String], by read: SecretRead) async throws(KeystoreError) -> LoggedReads {
        var keys: [(String, LookupKey)] = []
        for label in labels { keys.append((label, try labelKey(label))) }
        return try await loggedReads { (s) throws(KeystoreError) -> (value: LoggedReads, events: [AuditEvent]) in
            var events: [AuditEvent] = []
            var logged = Set<String>()
            for (label, key) in keys {
                guard let last = try labelState(key, s).versions.last else { continue }
                let summary = try KeystoreEntrySummary(decoding: try open(last, s), versions: 1)
                guard Label.comparisonKey(summary.label) == Label.comparisonKey(label) else {
                    throw .damaged(detail: "record \(last.sequence) holds another label")
                }
                events.append(.secretsRead(label: summary.label, fields: summary.fieldNames, by: read, version: nil))
                logged.insert(Label.comparisonKey(label))
            }
            return (LoggedReads(keystoreID: keystoreID, labels: logged), events)
        }
    }

    /// The current version of `label`, whose read `logged` recorded already (`logReads`): no
    /// record of its own.
    /// - Throws: `KeystoreError.noSuchEntry` (also for a label `logged` does not cover: nothing
    ///   is handed out unlogged), `.damaged`, lock and I/O errors.
    public func entry(_ label: String, logged: LoggedReads) async throws(KeystoreError) -> KeystoreEntry {
        guard logged.keystoreID == keystoreID, logged.labels.contains(Label.comparisonKey(label)) else { throw .noSuchEntry(label: label) }
        return try await entryForBroker(label)
    }

    /// Whether `error` says the keystore cannot be written here (as opposed to a lock held, a
    /// damaged file, or the read's own refusal).
    static func cannotWrite(_ error: KeystoreError) -> Bool {
        // A database that serves reads but stores nothing is the same case as a read-only file.
        if case .serverReadOnly = error { return true }
        guard case .io(_, _, let code) = error else { return false }
        return [EACCES, EROFS, EPERM, ENOSPC, EDQUOT, EFBIG].contains(code)
    }

    // MARK: Reading the log

    /// Every audit record, oldest first (in the order they were written), decrypted.
    func auditEntries(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [AuditLogEntry] {
        var out: [AuditLogEntry] = []
        for r in try current().refs(for: try lookupKey(.audit, ""), s).sorted(by: { $0.sequence < $1.sequence }) {
            guard r.type == .audit else { throw .damaged(detail: "record \(r.sequence) at byte \(r.position) has the audit lookup key but type \(r.type.rawValue)") }
            let bytes = try open(r, s).withUnsafeBytes { Array($0) }
            let record: AuditRecord
            do throws(AuditRecordError) { record = try AuditRecord(bytes: bytes) } catch {
                guard case .malformed(let detail) = error else { throw .damaged(detail: "audit record \(r.sequence)") }
                throw .damaged(detail: "audit record at sequence \(r.sequence): \(detail)")
            }
            out.append(AuditLogEntry(record: record, hash: AuditChain.hash(bytes, keystoreID: keystoreID)))
        }
        return out
    }

    /// The audit log (docs/KEYSTORE.md §2.8), oldest first. Reading it is not logged: it holds
    /// no secret.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func auditLog() async throws(KeystoreError) -> [AuditLogEntry] {
        try await read { (s) throws(KeystoreError) -> [AuditLogEntry] in try auditEntries(s) }
    }

    /// Checks the audit chain: numbered 1, 2, 3, … without a gap, each record carrying the hash
    /// of the one before, as many as the keystore's state (MAC'd) records, the newest being the
    /// one the state names. What it cannot see alone: a whole older copy of the keystore, or a
    /// log rewritten by someone holding its secrets (`verifyAuditLog(against:)` sees both).
    /// - Parameter export: an earlier export: the log must also extend it unchanged.
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors. A broken chain is not thrown:
    ///   it is the result's `problem`.
    public func verifyAuditLog(against export: AuditExport? = nil) async throws(KeystoreError) -> AuditVerification {
        let identities = try await identities()
        return try await read { (s) throws(KeystoreError) -> AuditVerification in
            let st = current().state
            let log = try auditEntries(s)
            var problem = AuditChain.check(log.map { ($0.record, $0.hash) }, count: st.auditCount, head: st.auditHead)
            if problem == nil, let export {
                problem = check(log, against: export, identities: identities)
            }
            return AuditVerification(count: st.auditCount, head: st.auditHead, exportCount: export?.count, problem: problem)
        }
    }

    /// Whether `log` (intact) extends `export`, which must be signed by one of `identities`.
    private func check(_ log: [AuditLogEntry], against export: AuditExport, identities: [IdentityInfo]) -> AuditProblem? {
        guard export.keystoreID == keystoreID else { return .otherKeystore }
        if let p = Self.exportProblem(export) { return p }
        guard identities.contains(where: { $0.publicKey.bytes == export.recipient }) else {
            return .signature(detail: "it is signed by \(export.fingerprint.canonical), which is not an identity of this keystore")
        }
        guard UInt64(log.count) >= export.count else {
            return .olderThanExport(keystoreCount: UInt64(log.count), exportCount: export.count)
        }
        for (mine, theirs) in zip(log, export.records) where mine.hash != theirs.hash {
            return .differsFromExport(number: theirs.record.number)
        }
        return nil
    }

    /// What is wrong with an export by itself: its signature, its key, its chain.
    /// - Returns: nil when the export is intact and signed by the recipient it names.
    public static func exportProblem(_ export: AuditExport) -> AuditProblem? {
        let recipient: PublicKey
        do { recipient = try PublicKey(bytes: export.recipient) } catch { return .signature(detail: "its recipient is not a key") }
        guard recipient.fingerprint == export.fingerprint else {
            return .signature(detail: "it states fingerprint \(export.fingerprint.canonical), but its recipient's is \(recipient.fingerprint.canonical)")
        }
        guard IdentitySignature.belongs(export.verifyingKey, to: recipient) else {
            return .signature(detail: "its verifying key is not the recipient's")
        }
        guard IdentitySignature.verify(export.signature, message: export.signedMessage, verifyingKey: export.verifyingKey) else {
            return .signature(detail: "the signature of its head does not verify")
        }
        var chain: [(record: AuditRecord, hash: [UInt8])] = []
        for e in export.records {
            let hash = AuditChain.hash(e.record.bytes, keystoreID: export.keystoreID)
            guard hash == e.hash else { return .export(.headMismatch(number: e.record.number)) }
            chain.append((e.record, hash))
        }
        return AuditChain.check(chain, count: export.count, head: export.head).map { .export($0) }
    }

    /// The audit log for an auditor: every record, and the head (count, newest hash, time)
    /// signed with the current identity (`IdentitySignature`), so that it can be checked with
    /// the published recipient alone. Nothing is changed.
    /// - Throws: `KeystoreError.auditLogBroken` (a broken chain is never signed), `.damaged`,
    ///   lock and I/O errors.
    public func auditExport() async throws(KeystoreError) -> AuditExport {
        try await read { (s) throws(KeystoreError) -> AuditExport in
            let st = current().state
            let log = try auditEntries(s)
            if let problem = AuditChain.check(log.map { ($0.record, $0.hash) }, count: st.auditCount, head: st.auditHead) {
                throw .auditLogBroken(problem)
            }
            let identity = try currentIdentity(s).pair
            let time = Timestamp.now()
            let message = AuditExport.signedMessage(keystoreID: keystoreID, count: st.auditCount, head: st.auditHead, time: time)
            let signed: (signature: [UInt8], verifyingKey: [UInt8])
            do throws(SodiumError) { signed = try IdentitySignature.sign(message, secretKey: identity.secretKey) } catch {
                throw .sodium(error)
            }
            return AuditExport(keystoreID: keystoreID, recipient: identity.publicKey.bytes, fingerprint: identity.publicKey.fingerprint,
                               verifyingKey: signed.verifyingKey, count: st.auditCount, head: st.auditHead, time: time,
                               signature: signed.signature,
                               records: log.map { ExportedAuditRecord(record: $0.record, hash: $0.hash) })
        }
    }
}
