/// What this handle knows of the stored log: the current state, the index snapshot it names,
/// and the tail (the frames after the snapshot), scanned by header into a small overlay. Every
/// clear field in it is authenticated before it is used: the snapshot through the state's index
/// digest and the page hashes, the tail through the state's tail digest (docs/KEYSTORE.md §3).
final class LogView {
    let header: KeystoreHeader
    let headerBytes: [UInt8]
    private(set) var state: KeystoreState
    private(set) var snapshot: IndexSnapshot?
    private(set) var tail: [FrameRef] = []
    private var tailByKey: [LookupKey: [Int]] = [:]
    private(set) var tailBytes = 0
    /// Stored bytes after the committed log end: an interrupted change.
    private(set) var interruptedBytes = 0

    var logStart: Int { header.logStart }

    private init(header: KeystoreHeader, headerBytes: [UInt8], state: KeystoreState) {
        self.header = header
        self.headerBytes = headerBytes
        self.state = state
    }

    /// The tail chain: BLAKE2b-32(previous ‖ the frame's 54-byte header), from 32 zero bytes.
    static func chain(_ previous: [UInt8], _ frameHeader: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = previous
        chain(&digest, frameHeader)
        return digest
    }

    /// The same, in place: an open follows the chain over every frame of the tail (up to
    /// 4,096), and an array or two per frame was most of that work (docs/PERFORMANCE.md).
    static func chain(_ digest: inout [UInt8], _ frameHeader: UnsafeRawBufferPointer) {
        guard digest.count == 32 else { digest = []; return }
        let ok = digest.withUnsafeMutableBytes { d in
            (try? GenericHash.hashPublic(UnsafeRawBufferPointer(d), frameHeader, into: d)) != nil
        }
        // As before: a digest that cannot be computed matches no committed state.
        if !ok { digest = [] }
    }

    /// The current state of the session's storage, checked with `keys`.
    /// - Throws: `.damaged` when no state authenticates (naming the likely reason).
    static func currentState(_ s: any KeystoreStorageSession, header: KeystoreHeader, keys: MasterKeys) throws(KeystoreError) -> KeystoreState {
        let slots = try s.states()
        // A file cut inside its state slots (a file store gives what it has).
        if slots.contains(where: { $0.count < KeystoreState.byteCount }) {
            throw .damaged(detail: "cut short inside its state slots")
        }
        var best: KeystoreState?
        for b in slots {
            guard let st = try KeystoreState.parse(b, key: keys.state, keystoreID: header.keystoreID, generation: header.generation,
                                                  logStart: header.logStart) else { continue }
            if best == nil || st.counter > best!.counter { best = st }
        }
        guard let best else {
            if slots.allSatisfy({ $0.allSatisfy { $0 == 0 } }) { throw .damaged(detail: "no committed state") }
            throw .damaged(detail: "the committed state does not authenticate (altered, or the header belongs to another copy of this keystore)")
        }
        return best
    }

    /// Reads the log afresh: state, snapshot header and fence, and the tail.
    static func load(_ s: any KeystoreStorageSession, header: KeystoreHeader, headerBytes: [UInt8],
                     keys: MasterKeys) throws(KeystoreError) -> LogView {
        let v = LogView(header: header, headerBytes: headerBytes, state: try currentState(s, header: header, keys: keys))
        try v.reload(s, to: v.state)
        return v
    }

    private func reload(_ s: any KeystoreStorageSession, to st: KeystoreState) throws(KeystoreError) {
        let stored = try s.storedEnd()
        guard stored >= st.logEnd else {
            throw .damaged(detail: "cut short: the committed state records \(st.recordCount) records up to byte \(st.logEnd), the log ends at byte \(stored)")
        }
        var start = logStart
        var expected = st.recordCount
        var after: UInt64 = 0
        snapshot = nil
        if st.indexPosition != 0 {
            let snap = try IndexSnapshot.load(s, position: st.indexPosition, digest: st.indexDigest, logStart: logStart, logEnd: st.logEnd)
            guard snap.end <= st.logEnd, snap.framesBefore < st.recordCount else { throw .damaged(detail: "index snapshot out of range") }
            start = snap.end
            expected = st.recordCount - snap.framesBefore - 1
            after = snap.sequence
            snapshot = snap
        }
        tail = []; tailByKey = [:]; tailBytes = 0
        state = KeystoreState(counter: st.counter, logEnd: start, lastSequence: after, recordCount: st.recordCount - expected,
                              indexPosition: st.indexPosition, indexDigest: st.indexDigest, auditCount: st.auditCount,
                              auditHead: st.auditHead, deadBytes: st.deadBytes, tailDigest: KeystoreState.zeroDigest)
        try extend(s, to: st)
        interruptedBytes = stored - st.logEnd
    }

    /// Scans the frames from our log end to `st`'s, checks them against `st`, and takes `st`.
    private func extend(_ s: any KeystoreStorageSession, to st: KeystoreState) throws(KeystoreError) {
        let from = state.logEnd
        let bytes = try s.frames(from: from, to: st.logEnd)
        guard bytes.count == st.logEnd - from else {
            throw .damaged(detail: "cut short: the committed state records \(st.recordCount) records up to byte \(st.logEnd)")
        }
        var chain = state.tailDigest
        var last = state.lastSequence
        var found: [FrameRef] = []
        try bytes.withBytes { (b) throws(KeystoreError) in
            var o = 0
            while o < b.count {
                let ref = try FrameHeader.parse(b, at: o, position: from + o, available: b.count - o)
                guard ref.type != .index else { throw .damaged(detail: "an index snapshot at byte \(ref.position) is not the current one") }
                guard ref.sequence > last else { throw .damaged(detail: "record \(ref.sequence) at byte \(ref.position) is out of order") }
                last = ref.sequence
                Self.chain(&chain, UnsafeRawBufferPointer(rebasing: b[o..<(o + FrameHeader.byteCount)]))
                found.append(ref)
                o += ref.length
            }
        }
        // The chain authenticates every clear field of the tail: a retyped, renumbered or
        // re-keyed frame, one dropped or one added, is refused here, before anything acts on it.
        guard chain == st.tailDigest, state.recordCount + found.count == st.recordCount, last == st.lastSequence else {
            throw .damaged(detail: "the log does not match its committed state (a record was changed, added or removed)")
        }
        tailByKey.reserveCapacity(tailByKey.count + found.count)
        tail.reserveCapacity(tail.count + found.count)
        for r in found {
            tailByKey[r.key, default: []].append(tail.count)
            tail.append(r)
            tailBytes += r.length
        }
        state = st
    }

    /// Follows what other processes committed since we last looked (the same generation).
    func refresh(_ s: any KeystoreStorageSession, keys: MasterKeys) throws(KeystoreError) {
        let st = try Self.currentState(s, header: header, keys: keys)
        let stored = try s.storedEnd()
        if st == state {
            interruptedBytes = stored - st.logEnd
            guard interruptedBytes >= 0 else { throw .damaged(detail: "cut short: the log ends at byte \(stored), before byte \(st.logEnd)") }
            return
        }
        if st.counter > state.counter, st.indexPosition == state.indexPosition, st.logEnd >= state.logEnd, stored >= st.logEnd {
            try extend(s, to: st)
            interruptedBytes = stored - st.logEnd
        } else {
            try reload(s, to: st)
        }
    }

    /// Takes a state this handle has just committed, with the frames it added (`refs`), or
    /// reloads when the commit wrote a new snapshot.
    func committed(_ s: any KeystoreStorageSession, state st: KeystoreState, refs: [FrameRef]) throws(KeystoreError) {
        if st.indexPosition != state.indexPosition { try reload(s, to: st); return }
        for r in refs {
            tailByKey[r.key, default: []].append(tail.count)
            tail.append(r)
            tailBytes += r.length
        }
        state = st
        interruptedBytes = 0
    }

    /// The records with lookup key `key`, oldest first: snapshot rows, then tail records.
    func refs(for key: LookupKey, _ s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        var out = try snapshot?.rows(for: key, s) ?? []
        for i in tailByKey[key] ?? [] { out.append(tail[i]) }
        return out
    }

    /// Every snapshot row and tail record, in sequence order.
    func allRefs(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        let rows = try snapshot?.allRows(s) ?? []
        return rows.sorted { $0.sequence < $1.sequence } + tail
    }
}
