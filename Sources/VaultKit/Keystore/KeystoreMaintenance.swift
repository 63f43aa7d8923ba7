extension Keystore {
    /// Rewrites the keystore without the records that no longer count (superseded token states,
    /// leases and settings, removed entries with their removal records, old index snapshots).
    /// Kept records are copied byte for byte; the new file replaces the old by rename, so a
    /// reader sees one or the other.
    /// - Throws: lock and I/O errors, `.damaged`.
    public func compact() async throws(KeystoreError) {
        try await write { (s) throws(KeystoreError) in try rewrite(s, header: current().header, audit: .compacted(automatic: false)) }
    }

    /// The keystore as one compacted file image (for a backup, issue 12): what `compact` would
    /// write, with a new generation. A copy holds every secret, so taking one is logged like a
    /// read of secrets: a `backup` record is committed to the keystore first (the copy holds it
    /// too, so its audit chain is a prefix of the keystore's); where the keystore cannot be
    /// written, the copy is refused unless the setting `unlogged-reads` is `on`.
    /// - Throws: `KeystoreError.readNotLogged`, lock and I/O errors, `.damaged`.
    public func image() async throws(KeystoreError) -> [UInt8] {
        try await loggedRead { (_) throws(KeystoreError) -> (value: Void, event: AuditEvent?) in ((), .backup) }
        // A commit by another process in between only adds to the chain the copy holds.
        return try await read { (s) throws(KeystoreError) -> [UInt8] in
            let parts = try rewritten(s, header: current().header, newKeys: nil, audit: nil).parts
            return ImageLayout.image(header: parts.header, state: parts.state, frames: parts.frames)
        }
    }

    /// Compacts after a commit once dead records are over their bounds. A failure here (a full
    /// disk) is not the commit's: the commit is durable and is reported stored; the old file
    /// stays (a rewrite replaces it only by rename), and the next commit tries again.
    func compactIfWorthwhile(_ s: any KeystoreStorageSession) {
        let v = current()
        guard v.state.deadBytes > Self.compactionThreshold, v.state.deadBytes * 2 > v.state.logEnd - v.logStart else { return }
        do { try rewrite(s, header: v.header, audit: .compacted(automatic: true)) } catch {
            // Whatever happened to the file, the next access reads it afresh.
            view = nil
        }
    }

    /// Replaces the stored keystore with `header` (given a new generation) and the live records:
    /// copied as they are, or re-sealed under `newKeys` (a re-key: every record decrypted,
    /// given its lookup key under the new master key and sealed again, sequence numbers kept).
    /// The new file ends with the audit record of `audit`.
    func rewrite(_ s: any KeystoreStorageSession, header: KeystoreHeader, newKeys: MasterKeys? = nil,
                 audit: AuditEvent) throws(KeystoreError) {
        let (parts, h, k) = try rewritten(s, header: header, newKeys: newKeys, audit: audit)
        try s.replaceAll(header: parts.header, state: parts.state, frames: parts.frames)
        keys = k
        view = try LogView.load(s, header: h, headerBytes: parts.header, keys: k)
    }

    /// - Parameter audit: the event the new image records; nil only for an exact copy (`image`).
    func rewritten(_ s: any KeystoreStorageSession, header: KeystoreHeader, newKeys: MasterKeys?,
                   audit: AuditEvent?) throws(KeystoreError) -> (parts: KeystoreImage.Parts, header: KeystoreHeader, keys: MasterKeys) {
        let v = current()
        // The tail's records are authenticated before they are copied into a snapshot.
        let live = try liveRecords(s, authenticateTail: newKeys == nil)
        let log = try s.frames(from: v.logStart, to: v.state.logEnd)
        guard log.count == v.state.logEnd - v.logStart else { throw .damaged(detail: "cut short: the log ends before byte \(v.state.logEnd)") }
        var h = header
        h.generation = Random.bytes(KeystoreHeader.generationByteCount)
        let k = newKeys ?? keys
        var frames: [[UInt8]] = []
        var refs: [FrameRef] = []
        var position = h.logStart
        for r in live.rows.sorted(by: { $0.sequence < $1.sequence }) {
            let o = r.position - v.logStart
            var bytes = Array(log[o..<(o + r.length)])
            var key = r.key
            if let newKeys {
                let plain = try SealedFrame.open(bytes, ref: r, keystoreID: keystoreID, recordKey: keys.record)
                key = try lookupKey(of: r.type, plaintext: plain, keys: newKeys)
                bytes = try SealedFrame.seal(plain, type: r.type, sequence: r.sequence, key: key, keystoreID: keystoreID,
                                             recordKey: newKeys.record)
            }
            refs.append(FrameRef(position: position, length: bytes.count, type: r.type, sequence: r.sequence, key: key))
            frames.append(bytes)
            position += bytes.count
        }
        let st = v.state
        guard let audit else {
            return (try KeystoreImage.copy(header: h, keys: k, frames: frames, refs: refs, lastSequence: st.lastSequence,
                                           auditCount: st.auditCount, auditHead: st.auditHead), h, k)
        }
        return (try KeystoreImage.finish(header: h, keys: k, frames: frames, refs: refs, lastSequence: st.lastSequence,
                                         auditCount: st.auditCount, auditHead: st.auditHead, audit: audit), h, k)
    }

    /// The lookup key a record's contents give it under `keys` (re-key and migration).
    func lookupKey(of type: RecordType, plaintext: SecretBytes, keys: MasterKeys) throws(KeystoreError) -> LookupKey {
        let r = try RecordReader(plaintext)
        switch type {
        case .entry, .tokenState, .tokenLease: return LookupKey(try keys.lookupKey(.label, Label.comparisonKey(try r.requiredText(.label))))
        case .ledger: return LookupKey(try keys.lookupKey(.blob, try r.requiredText(.blobID)))
        case .setting: return LookupKey(try keys.lookupKey(.setting, try r.requiredText(.name)))
        case .request: return LookupKey(try keys.lookupKey(.request, try r.requiredText(.request)))
        case .audit: return LookupKey(try keys.lookupKey(.audit, ""))
        case .identity: return LookupKey(try keys.lookupKey(.identity, ""))
        case .removal, .index: throw .damaged(detail: "a \(type) record is never live")
        }
    }
}
