extension Keystore {
    /// The value of the setting `name`, if one was stored (sealed like every record).
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func setting(_ name: String) async throws(KeystoreError) -> String? {
        let key = try lookupKey(.setting, name)
        return try await read { (s) throws(KeystoreError) -> String? in try settingValue(key, name, s) }
    }

    /// The value of the setting `name` (lookup key `key`), decrypted, inside a session.
    func settingValue(_ key: LookupKey, _ name: String, _ s: any KeystoreStorageSession) throws(KeystoreError) -> String? {
        guard let r = try latest(key, type: .setting, s) else { return nil }
        let reader = try RecordReader(try open(r, s))
        guard try reader.requiredText(.name) == name else { throw .damaged(detail: "record \(r.sequence): setting holds another name") }
        return try reader.requiredText(.value)
    }

    /// Stores `value` for the setting `name`, superseding any earlier value, with its audit
    /// record (`setting`: the name, and the value for vault's own policy settings only).
    /// - Throws: `KeystoreError.invalidEntry` for an empty name, lock and I/O errors.
    public func setSetting(_ name: String, to value: String) async throws(KeystoreError) {
        try await setSetting(name, to: value, audit: .settingChanged(name: name, value: value))
    }

    /// `setSetting`, recorded as `audit` (the Exact Online broker's authorisation states).
    func setSetting(_ name: String, to value: String, audit: AuditEvent) async throws(KeystoreError) {
        guard !name.isEmpty else { throw .invalidEntry(detail: "setting name is empty") }
        let key = try lookupKey(.setting, name)
        var w = RecordWriter()
        w.add(.name, name)
        w.add(.value, value)
        let plain = try w.encoded()
        try await write { (s) throws(KeystoreError) in
            let old = try latest(key, type: .setting, s)
            try commit([NewRecord(type: .setting, key: key, plaintext: plain)], dead: old?.length ?? 0, audit: audit, in: s)
        }
    }

    /// The latest record of `type` under `key` (settings, requests): any other type there is damage.
    func latest(_ key: LookupKey, type: RecordType, _ s: any KeystoreStorageSession) throws(KeystoreError) -> FrameRef? {
        let refs = try current().refs(for: key, s)
        for r in refs where r.type != type {
            throw .damaged(detail: "record \(r.sequence) at byte \(r.position) has an unexpected type for its lookup key")
        }
        return refs.last
    }
}
