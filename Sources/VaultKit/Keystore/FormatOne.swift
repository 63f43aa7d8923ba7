/// Format 1 (vault 0.1.0), read only to migrate it (docs/KEYSTORE.md §9): its header, its key
/// unwrap and its record log, as 0.1.0 wrote them. Nothing here writes format 1.
enum FormatOne {
    static let slotByteCount = 2 + 16 + 24 + 48
    static let fixedByteCount = 8 + 2 + 2 + 16 + 16 + 1
    static let frameHeaderByteCount = 54
    static let commitFlag: UInt8 = 1

    struct Slot {
        let kind: UnlockSlot.Kind
        let profile: KDFProfile?
        let salt: [UInt8]
        let nonce: [UInt8]
        let wrapped: [UInt8]
    }

    struct Header {
        let keystoreID: [UInt8]
        let slots: [Slot]
        let byteCount: Int
    }

    /// A format-1 header: checksum first, then every value range-checked (0.1.0 wrote at most
    /// one slot of each kind, at most two).
    /// - Throws: `.truncated`, `.damaged`.
    static func parseHeader(_ b: [UInt8], path: String) throws(KeystoreError) -> Header {
        guard b.count >= fixedByteCount else { throw .truncated(path: path) }
        let length = Int(readBE16(b, 10))
        let count = Int(b[fixedByteCount - 1])
        guard (1...2).contains(count), length == fixedByteCount + count * slotByteCount + 32 else {
            throw .damaged(detail: "header length or key slot count out of range")
        }
        guard b.count >= length else { throw .truncated(path: path) }
        guard SHA256.hash(Array(b[0..<(length - 32)])) == Array(b[(length - 32)..<length]) else {
            throw .damaged(detail: "header checksum does not match")
        }
        var slots: [Slot] = []
        var o = fixedByteCount
        for _ in 0..<count {
            guard let kind = UnlockSlot.Kind(rawValue: b[o]) else { throw .damaged(detail: "unknown key slot kind") }
            let profile: KDFProfile?
            switch (kind, b[o + 1]) {
            case (.keyFile, 0): profile = nil
            case (.passphrase, 1): profile = .interactive
            case (.passphrase, 2): profile = .moderate
            case (.passphrase, 3): profile = .sensitive
            default: throw .damaged(detail: "unknown KDF profile")
            }
            slots.append(Slot(kind: kind, profile: profile, salt: Array(b[(o + 2)..<(o + 18)]), nonce: Array(b[(o + 18)..<(o + 42)]),
                              wrapped: Array(b[(o + 42)..<(o + 90)])))
            o += slotByteCount
        }
        guard Set(slots.map(\.kind.rawValue)).count == slots.count else { throw .damaged(detail: "duplicate key slot") }
        return Header(keystoreID: Array(b[12..<28]), slots: slots, byteCount: length)
    }

    /// What unwrapping a format-1 slot gives: the master key, and the KEK and slot it came
    /// from (a format-2 slot is made from them without running the KDF again).
    struct Unwrapped {
        let slot: Slot
        let kek: SecretBytes
        let master: SecretBytes
    }

    /// Unwraps the master key (the KDF runs here for a passphrase).
    /// - Throws: `.unlockMethodNotAvailable`, `.emptyPassphrase`, `.wrongPassphrase`, `.wrongKeyFile`, key file errors.
    static func unwrap(_ h: Header, _ unlock: KeystoreUnlock) throws(KeystoreError) -> Unwrapped {
        guard let slot = h.slots.first(where: { $0.kind == unlock.kind }) else {
            throw .unlockMethodNotAvailable(offered: unlock.kind.words, available: h.slots.map(\.kind.words))
        }
        let kek: SecretBytes
        switch unlock {
        case .passphrase(let pass):
            guard pass.count > 0 else { throw .emptyPassphrase }
            do { kek = try PasswordHash.deriveKey(passphrase: pass, salt: slot.salt, profile: slot.profile ?? .moderate, length: 32) } catch {
                throw .sodium(error)
            }
        case .keyFile(let path):
            kek = try KeyFile.read(at: path)
        }
        var ad = KeystoreHeader.magic + be16(1) + h.keystoreID
        ad += [slot.kind.rawValue, UnlockSlot.profileCode(slot.profile)] + slot.salt
        let master: SecretBytes
        do { master = try XChaCha20Poly1305.open(slot.wrapped, associatedData: ad, nonce: slot.nonce, key: kek) } catch {
            guard error == .authenticationFailed else { throw .sodium(error) }
            if slot.kind == .passphrase { throw .wrongPassphrase(profiles: [slot.profile ?? .moderate]) }
            throw .wrongKeyFile
        }
        guard master.count == 32 else { throw .damaged(detail: "master key size") }
        return Unwrapped(slot: slot, kek: kek, master: master)
    }

    struct Record {
        let type: RecordType
        let sequence: UInt64
        let plaintext: SecretBytes
    }

    /// Every committed record of a format-1 log, decrypted and authenticated (format-1 AD and
    /// subkeys). Records after the last commit flag (an interrupted append) are left out.
    /// - Throws: `.damaged` naming the first bad record.
    static func records(_ image: [UInt8], header h: Header, master: SecretBytes) throws(KeystoreError) -> [Record] {
        let key: SecretBytes
        do { key = try GenericHash.deriveSubkey(context: Array("vault-ks record key v1".utf8), key: master, length: 32) } catch {
            throw .sodium(error)
        }
        var found: [Record] = []
        var committed = 0
        var o = h.byteCount
        var last: UInt64 = 0
        while o < image.count {
            let left = image.count - o
            guard left >= 4 else { break }
            let length = Int(readBE32(image, o))
            guard length >= 70, length <= 1 << 20 else {
                // Zeros after the last frame: an append that never reached the disk.
                if image[o...].allSatisfy({ $0 == 0 }) { break }
                throw .damaged(detail: "record length out of range at byte \(o)")
            }
            guard left >= length else { break }
            guard let type = RecordType(rawValue: image[o + 4]), type != .index else {
                throw .damaged(detail: "unknown record type \(image[o + 4]) at byte \(o)")
            }
            let flags = image[o + 5]
            let seq = readBE64(image, o + 6)
            // Range-checked: a sequence of 2^64-1 is damage, never an overflow.
            guard seq > last, seq < Limits.maxSequence else { throw .damaged(detail: "record \(seq) out of order") }
            last = seq
            let lookup = Array(image[(o + 14)..<(o + 30)])
            let ad = Array("vault-ks record".utf8) + h.keystoreID + [type.rawValue, flags] + be64(seq) + lookup
            let plain: SecretBytes
            do {
                plain = try XChaCha20Poly1305.open(Array(image[(o + 54)..<(o + length)]), associatedData: ad,
                                                   nonce: Array(image[(o + 30)..<(o + 54)]), key: key)
            } catch {
                guard error == .authenticationFailed else { throw .sodium(error) }
                throw .damaged(detail: "record \(seq) does not authenticate")
            }
            found.append(Record(type: type, sequence: seq, plaintext: plain))
            if flags & commitFlag != 0 { committed = found.count }
            o += length
        }
        return Array(found[0..<committed])
    }
}
