extension Keystore {
    /// The value of the setting `name`, if one was stored (sealed like every record).
    /// - Throws: `KeystoreError.damaged`, lock and I/O errors.
    public func setting(_ name: String) async throws(KeystoreError) -> String? {
        let key = try settingKey(name)
        guard let i = try await read({ () throws(KeystoreError) -> Int? in index.settings[LookupKey(key)] }) else { return nil }
        let r = try RecordReader(try open(i))
        guard try r.requiredText(.name) == name else { throw .damaged(detail: "setting record holds another name") }
        return try r.requiredText(.value)
    }

    /// Stores `value` for the setting `name`, superseding any earlier value.
    /// - Throws: `KeystoreError.invalidEntry` for an empty name, lock and I/O errors.
    public func setSetting(_ name: String, to value: String) async throws(KeystoreError) {
        guard !name.isEmpty else { throw .invalidEntry(detail: "setting name is empty") }
        let key = try settingKey(name)
        var w = RecordWriter()
        w.add(.name, name)
        w.add(.value, value)
        let plain = try w.encoded()
        try await write { (s) throws(KeystoreError) in
            try commit([(.setting, key, plain)], in: s)
            try compactIfWorthwhile(s)
        }
    }
}
