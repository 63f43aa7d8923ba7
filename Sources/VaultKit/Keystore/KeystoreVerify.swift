/// What `Keystore.verify` checked.
public struct VerifyReport: Sendable, Equatable {
    /// Frames in the log, index snapshots included.
    public let records: Int
    /// Bytes of the log.
    public let logBytes: Int
    /// Live entries (labels).
    public let entries: Int
    /// Their versions, history included.
    public let versions: Int
    /// Identities (any state).
    public let identities: Int
    /// Bytes stored after the committed log (an interrupted change), ignored.
    public let interruptedBytes: Int
}

extension Keystore {
    /// Authenticates everything (`vault verify`): every frame parses in sequence order, every
    /// record decrypts and authenticates, the log has exactly the records and end the committed
    /// state records, the index snapshot lists exactly the live records a full scan finds,
    /// exactly one identity is current, and the audit chain holds (`verifyAuditLog`). Opening does far less (docs/KEYSTORE.md §3).
    /// - Throws: `KeystoreError.damaged` naming the first bad record (sequence number and byte
    ///   position) or the first inconsistency; lock and I/O errors.
    @discardableResult
    public func verify() async throws(KeystoreError) -> VerifyReport {
        try await read { (s) throws(KeystoreError) -> VerifyReport in
            let v = current()
            let st = v.state
            let log = try s.frames(from: v.logStart, to: st.logEnd)
            guard log.count == st.logEnd - v.logStart else { throw .damaged(detail: "cut short: the log ends before byte \(st.logEnd)") }
            var refs: [FrameRef] = []
            try log.withBytes { (b) throws(KeystoreError) in
                var o = 0
                var last: UInt64 = 0
                while o < b.count {
                    let r = try FrameHeader.parse(b, at: o, position: v.logStart + o, available: b.count - o)
                    guard r.sequence > last else { throw .damaged(detail: "record \(r.sequence) at byte \(r.position) is out of order") }
                    last = r.sequence
                    refs.append(r)
                    o += r.length
                }
            }
            guard refs.count == st.recordCount, (refs.last?.sequence ?? 0) == st.lastSequence else {
                throw .damaged(detail: "the log holds \(refs.count) records, the committed state records \(st.recordCount)")
            }
            for r in refs where r.type != .index {
                let o = r.position - v.logStart
                _ = try SealedFrame.open(Array(log[o..<(o + r.length)]), ref: r, keystoreID: keystoreID, recordKey: keys.record)
            }
            if let snap = v.snapshot {
                guard refs.contains(where: { $0.position == snap.position && $0.type == .index }) else {
                    throw .damaged(detail: "the index snapshot is not a frame of the log")
                }
                var set = LiveSet()
                for r in refs where r.position < snap.position { try set.add(r) }
                let ids = try identityRecords(set.identities, s).map(\.ref)
                guard set.rows(identities: ids) == (try snap.allRows(s)) else {
                    throw .damaged(detail: "the index snapshot does not list the live records of the log")
                }
            }
            var set = LiveSet()
            for r in refs where r.type != .index || r.position != v.snapshot?.position { try set.add(r) }
            let identities = try identityRecords(set.identities, s)
            guard identities.filter({ $0.state == .current }).count == 1 else { throw .damaged(detail: "not exactly one identity is current") }
            // The audit chain: numbered without a gap, linked, as long as the state says.
            let audit = try auditEntries(s)
            if let problem = AuditChain.check(audit.map { ($0.record, $0.hash) }, count: st.auditCount, head: st.auditHead) {
                throw .damaged(detail: "audit log: \(problem.summary)")
            }
            let live = set.labels.values.filter { !$0.versions.isEmpty }
            return VerifyReport(records: refs.count, logBytes: log.count, entries: live.count,
                                versions: live.reduce(0) { $0 + $1.versions.count }, identities: identities.count,
                                interruptedBytes: v.interruptedBytes)
        }
    }
}
