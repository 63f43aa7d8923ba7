/// Who read secrets, for the audit record of the read (docs/KEYSTORE.md §2.8).
public enum SecretRead: Sendable, Equatable {
    /// A program reading through VaultKit (`Keystore.entry`, `history`): operation `read`.
    case library
    /// `vault get LABEL FIELD`: operation `get`, naming the one field printed.
    case get(field: String)
    /// `vault export LABEL`: operation `export`.
    case export
}

/// Why identity records are appended (`Keystore.updateIdentities`): named in each one's audit
/// record as its subject.
public enum IdentityOperation: String, Sendable, CaseIterable {
    /// A new identity becomes current; the old one stays active.
    case rotate
    /// An identity stops opening anything.
    case retire
    /// An identity opens blobs again, or becomes current again.
    case activate
    /// An identity brought in from elsewhere.
    case `import`
}

/// The settings of vault's own policy: their values are public and are logged with them.
/// Any other setting (an Exact Online authorisation in progress holds a random `state`) is
/// logged by name only.
public enum KeystoreSettingName {
    /// `on`: `vault open` refuses every blob that answers no open request of this keystore.
    public static let requireRequest = "require-request"
    /// `on`: a read of secrets that cannot be logged (the keystore cannot be written) is
    /// allowed, unlogged; otherwise it fails.
    public static let unloggedReads = "unlogged-reads"
    /// Every policy setting, in the order `vault settings` lists them.
    public static let all = [requireRequest, unloggedReads]
}

/// One thing that changed the keystore or read its secrets, as its audit record names it. Every
/// commit must name at least one (`Keystore.commit`, `finish`, `rewrite` and
/// `KeystoreImage.finish` take it, not as an option), so an operation added anywhere does not
/// compile until it says what it records.
enum AuditEvent {
    /// `vault init`: the keystore made, with its first identity.
    case created(identity: Fingerprint)
    /// A format-1 keystore rewritten as format 2 (its log begins here).
    case migrated(fromVersion: Int)
    /// A blob stored (`open`, or `replace` when it superseded an entry: the earlier version is
    /// kept as history).
    case opened(label: String, blobID: String, origin: BlobOrigin?, request: String?, fields: [String], replaced: Bool)
    /// A hand-off request answered by a blob (in the same commit as the blob's `open`).
    case requestAnswered(code: String, label: String, blobID: String)
    /// An entry removed with its history.
    case removed(label: String)
    /// An unlock method added.
    case unlockAdded(name: String, kind: UnlockMethodKind)
    /// An unlock method removed (the keystore re-keyed).
    case unlockRemoved(name: String)
    /// The unlock method used replaced (`vault passwd`; the keystore re-keyed).
    case protectionChanged(name: String, kind: UnlockMethodKind)
    /// A hand-off request issued.
    case requestIssued(code: String, label: String, expires: String)
    /// A hand-off request cancelled.
    case requestCancelled(code: String, label: String)
    /// A setting changed.
    case settingChanged(name: String, value: String)
    /// `vault connect` began an authorisation (its random state recorded).
    case connectBegun(label: String)
    /// `vault connect` finished (the code used; tokens stored before, as `token-store`).
    case connectFinished(label: String)
    /// An entry's token lease taken.
    case tokenLeaseTaken(label: String)
    /// A new token state stored, with the lease released.
    case tokenStored(label: String)
    /// An entry's token lease released, nothing stored.
    case tokenLeaseReleased(label: String)
    /// The lease taken for a refresh: the refresh token is about to leave the process.
    case tokenRefreshStarted(label: String)
    /// A refresh ended: `stored`, `unchanged`, `uncertain` or `refused`.
    case tokenRefreshEnded(label: String, outcome: String)
    /// An access token handed out (`ExactConnector.accessToken`, `vault token`).
    case tokenRead(label: String, refreshed: Bool)
    /// Secret values handed out.
    case secretsRead(label: String, fields: [String], by: SecretRead, version: String?)
    /// An identity record appended.
    case identityChanged(fingerprint: Fingerprint, state: IdentityState, operation: IdentityOperation)
    /// An identity's secret key handed out (`vault identity export`).
    case identityExported(fingerprint: Fingerprint)
    /// The keystore rewritten without its dead records.
    case compacted(automatic: Bool)
    /// A copy of the whole keystore taken (`Keystore.image`): every secret in it.
    case backup
    /// The whole keystore copied to another back end (`Keystore.copy(to:)`, `vault migrate`):
    /// `location` is where the copy went (a file, or a postgres:// address, which holds no password).
    case copied(to: String)

    /// The record's operation and fields.
    func record(number: UInt64, previous: [UInt8], time: String) -> AuditRecord {
        func r(_ op: String, label: String? = nil, blobID: String? = nil, sha: [UInt8]? = nil, fingerprint: String? = nil,
               request: String? = nil, fields: [String] = [], subject: String? = nil, detail: String? = nil) -> AuditRecord {
            AuditRecord(number: number, previous: previous, time: time, operation: op, label: label, blobID: blobID,
                        blobSHA256: sha, fingerprint: fingerprint, request: request, fields: fields, subject: subject, detail: detail)
        }
        switch self {
        case .created(let identity): return r("init", fingerprint: identity.canonical)
        case .migrated(let version): return r("migrate", detail: "from format \(version)")
        case .opened(let label, let blobID, let origin, let request, let fields, let replaced):
            // The label the blob proposed, when the integrator stored it under another (--as).
            let proposed = origin.flatMap { Label.comparisonKey($0.label) == Label.comparisonKey(label) ? nil : "sealed as \($0.label)" }
            return r(replaced ? "replace" : "open", label: label, blobID: blobID, sha: origin?.sha256,
                     fingerprint: origin?.fingerprint.canonical, request: request, fields: fields, detail: proposed)
        case .requestAnswered(let code, let label, let blobID): return r("request-answer", label: label, blobID: blobID, request: code)
        case .removed(let label): return r("remove", label: label)
        case .unlockAdded(let name, let kind): return r("unlock-add", subject: name, detail: kind.rawValue)
        case .unlockRemoved(let name): return r("unlock-remove", subject: name)
        case .protectionChanged(let name, let kind): return r("passwd", subject: name, detail: kind.rawValue)
        case .requestIssued(let code, let label, let expires): return r("request-issue", label: label, request: code, detail: "expires \(expires)")
        case .requestCancelled(let code, let label): return r("request-cancel", label: label, request: code)
        case .settingChanged(let name, let value):
            // Only vault's own policy values are public; any other value stays out of the log.
            return r("setting", subject: name, detail: KeystoreSettingName.all.contains(name) ? value : nil)
        case .connectBegun(let label): return r("connect-begin", label: label)
        case .connectFinished(let label): return r("connect", label: label)
        case .tokenLeaseTaken(let label): return r("token-lease", label: label)
        case .tokenStored(let label): return r("token-store", label: label)
        case .tokenLeaseReleased(let label): return r("token-release", label: label)
        case .tokenRefreshStarted(let label): return r("token-refresh-start", label: label)
        case .tokenRefreshEnded(let label, let outcome): return r("token-refresh", label: label, detail: outcome)
        case .tokenRead(let label, let refreshed): return r("token-read", label: label, fields: ["access_token"],
                                                            detail: refreshed ? "refreshed" : nil)
        case .secretsRead(let label, let fields, let by, let version):
            let op = switch by {
            case .library: "read"
            case .get: "get"
            case .export: "export"
            }
            return r(op, label: label, fields: fields, detail: version)
        case .identityChanged(let fingerprint, let state, let operation):
            return r("identity", fingerprint: fingerprint.canonical, subject: operation.rawValue, detail: state.rawValue)
        case .identityExported(let fingerprint): return r("identity-export", fingerprint: fingerprint.canonical, fields: ["secret_key"])
        case .compacted(let automatic): return r("compact", detail: automatic ? "automatic" : nil)
        case .backup: return r("backup")
        case .copied(let location): return r("copy", detail: "to \(location)")
        }
    }
}

/// The events of one commit, at least one.
struct AuditEvents {
    let all: [AuditEvent]

    init(_ first: AuditEvent, _ rest: [AuditEvent] = []) { all = [first] + rest }

    /// nil for none.
    init?(_ events: [AuditEvent]) {
        guard let first = events.first else { return nil }
        self.init(first, Array(events.dropFirst()))
    }
}

/// The audit chain (docs/KEYSTORE.md §2.8): record n's hash is SHA-256(ASCII
/// `vault audit record v1` ‖ keystore id ‖ record n's bytes), and record n's bytes carry record
/// n − 1's hash. The state (MAC'd) holds the count and the newest hash, so a record cut off the
/// end is seen without any export.
enum AuditChain {
    static let domain = Array("vault audit record v1".utf8)

    /// The hash of a record's bytes.
    static func hash(_ bytes: [UInt8], keystoreID: [UInt8]) -> [UInt8] { SHA256.hash(domain + keystoreID + bytes) }

    /// The next record of the chain `(count, head)` for `event`, its plaintext and its hash.
    static func next(_ event: AuditEvent, count: UInt64, head: [UInt8], keystoreID: [UInt8],
                     time: String = Timestamp.now()) throws(KeystoreError) -> (plaintext: SecretBytes, hash: [UInt8]) {
        let record = event.record(number: count + 1, previous: head, time: time)
        let plain: SecretBytes
        do { plain = try SecretBytes(record.bytes) } catch { throw .sodium(error) }
        return (plain, hash(record.bytes, keystoreID: keystoreID))
    }

    /// Checks records (oldest first) as a chain ending at `count`/`head`.
    /// - Returns: the first broken link, or nil.
    static func check(_ records: [(record: AuditRecord, hash: [UInt8])], count: UInt64, head: [UInt8]) -> AuditProblem? {
        var previous = KeystoreState.zeroDigest
        var expected: UInt64 = 1
        let present = Set(records.map(\.record.number))
        for (record, hash) in records {
            if record.number > expected {
                // Record `expected` comes later: the order was changed, nothing removed.
                if present.contains(expected) { return .outOfOrder(number: record.number, after: expected - 1) }
                return .missing(number: expected, next: record.number)
            }
            if record.number < expected { return .outOfOrder(number: record.number, after: expected - 1) }
            if record.previous != previous { return .brokenLink(number: record.number) }
            previous = hash
            expected += 1
        }
        let found = expected - 1
        if found < count { return .cutShort(stateCount: count, logCount: found) }
        if found > count { return .longerThanState(stateCount: count, logCount: found) }
        if previous != head { return .headMismatch(number: found) }
        return nil
    }
}

/// The first broken link of an audit chain, or what an export shows about the keystore.
public indirect enum AuditProblem: Error, Sendable, Equatable {
    /// Record `number` is missing: the next one is `next` (records were removed).
    case missing(number: UInt64, next: UInt64)
    /// Record `number` comes after record `after`: records were reordered, or one repeated.
    case outOfOrder(number: UInt64, after: UInt64)
    /// Record `number` does not carry the hash of the record before it: that one (or this one)
    /// was changed, or records between them removed.
    case brokenLink(number: UInt64)
    /// The log ends at record `logCount`, but the keystore's state records `stateCount`:
    /// records were cut off the end.
    case cutShort(stateCount: UInt64, logCount: UInt64)
    /// The log holds more records than the keystore's state records.
    case longerThanState(stateCount: UInt64, logCount: UInt64)
    /// The newest record, `number`, is not the one the keystore's state records: it was changed.
    case headMismatch(number: UInt64)
    /// Record `number` does not decode.
    case malformed(number: UInt64, detail: String)
    /// The export is of another keystore.
    case otherKeystore
    /// The export's signature does not verify, or its key is not an identity of this keystore
    /// (`detail` says which).
    case signature(detail: String)
    /// The export's own chain is broken (the file was edited).
    case export(AuditProblem)
    /// The keystore's log holds fewer records (`keystoreCount`) than the export (`exportCount`):
    /// it was put back to an older copy, or records were cut.
    case olderThanExport(keystoreCount: UInt64, exportCount: UInt64)
    /// Record `number` differs from the export's: the log was changed since, or the keystore
    /// was put back to an older copy and written since.
    case differsFromExport(number: UInt64)
}

extension AuditProblem {
    /// The problem in a few plain words, for a `damaged` detail (the CLI words each case itself).
    var summary: String {
        switch self {
        case .missing(let n, let next): "record \(n) is missing (the next is \(next))"
        case .outOfOrder(let n, let after): "record \(n) comes after record \(after)"
        case .brokenLink(let n): "record \(n) does not carry the hash of the record before it"
        case .cutShort(let state, let log): "the log ends at record \(log), but the keystore's state records \(state)"
        case .longerThanState(let state, let log): "the log holds \(log) records, the keystore's state \(state)"
        case .headMismatch(let n): "record \(n) is not the head the keystore's state records"
        case .malformed(let n, let detail): "record \(n) is malformed (\(detail))"
        case .otherKeystore: "the export is of another keystore"
        case .signature(let detail): "the export's signature: \(detail)"
        case .export(let inner): "the export: \(inner.summary)"
        case .olderThanExport(let k, let e): "the log holds \(k) records, the export \(e)"
        case .differsFromExport(let n): "record \(n) differs from the export's"
        }
    }
}
