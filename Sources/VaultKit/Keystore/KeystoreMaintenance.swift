extension Keystore {
    /// Compaction runs after a change once dropped records are over 1 MiB and over half the log.
    static let compactionThreshold = 1 << 20

    /// Rewrites the keystore without the records that no longer count (superseded token states
    /// and leases, removed entries and their removal records). Kept records are copied byte for
    /// byte; the new file replaces the old by rename, so a reader sees one or the other.
    /// - Throws: lock and I/O errors, `.damaged`.
    public func compact() async throws(KeystoreError) {
        try await write { (s) throws(KeystoreError) in try rewrite(s, header: try renewedHeader(s)) }
    }

    func compactIfWorthwhile(_ s: any KeystoreStorageSession) throws(KeystoreError) {
        guard index.deadBytes > Self.compactionThreshold, index.deadBytes * 2 > index.totalBytes else { return }
        try rewrite(s, header: try renewedHeader(s))
    }

    /// The current header with a new generation, for a rewritten file.
    private func renewedHeader(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [UInt8] {
        var h = try KeystoreHeader.parse(try s.header()[...], path: storage.location)
        h.generation = Random.bytes(KeystoreHeader.generationByteCount)
        return h.encoded()
    }

    private func rewrite(_ s: any KeystoreStorageSession, header: [UInt8]) throws(KeystoreError) {
        var kept = index.liveRecords.map { index.records[$0] }
        // The log must end with a committed record; re-seal the last one with the flag if not.
        if let last = kept.last, !last.commits {
            let plain = try last.open(keystoreID: keystoreID, key: recordKey)
            guard let type = RecordType(rawValue: last.type) else { throw .damaged(detail: "unknown record type") }
            kept[kept.count - 1] = try SealedRecord.seal(plain, type: type, flags: last.flags | SealedRecord.commitFlag,
                                                         sequence: last.sequence, lookupKey: last.lookupKey,
                                                         keystoreID: keystoreID, key: recordKey)
        }
        cursor = try s.replaceAll(header: header, records: kept)
        index = RecordIndex()
        for r in kept { try index.add(r) }
    }

    /// Changes how the master key is protected (`vault passwd`): wraps the master key under
    /// `protection` (a passphrase's KDF runs first, without the lock), then replaces the file by
    /// rename with the new header and the same records, compacted. Records are not re-encrypted;
    /// the new protection replaces every old key slot.
    /// - Throws: key file errors for a new key file, lock and I/O errors.
    public func changeProtection(to protection: KeystoreProtection) async throws(KeystoreError) {
        let slot = try KeystoreHeader.makeSlot(protection, masterKey: masterKey, keystoreID: keystoreID)
        let header = KeystoreHeader(keystoreID: keystoreID, slots: [slot]).encoded()
        try await write { (s) throws(KeystoreError) in try rewrite(s, header: header) }
    }

    /// Decrypts every record and checks it authenticates (the CLI's verification, and fuzzing).
    /// Opening does not do this: it reads the log's frames and opens records as they are used.
    /// - Throws: `KeystoreError.damaged` naming the first record that fails; lock and I/O errors.
    public func verify() async throws(KeystoreError) {
        let count = try await read { () throws(KeystoreError) -> Int in index.records.count }
        for i in 0..<count { _ = try open(i) }
    }
}
