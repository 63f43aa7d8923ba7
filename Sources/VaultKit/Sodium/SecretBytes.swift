internal import CSodium

/// Bytes that must not outlive their use: held in locked secret memory carved from a few
/// `sodium_malloc` arenas (guard pages around each arena, locked when the system allows, not in
/// core dumps; `SecretArena`), wiped as soon as they are freed, compared in constant time, never
/// printed. No kernel mapping per secret: a process may hold as many as memory allows.
///
/// Not `Sendable` on purpose: a secret buffer belongs to the one task that uses it.
public final class SecretBytes: CustomStringConvertible, CustomDebugStringConvertible {
    private let pointer: UnsafeMutableRawPointer
    private let slot: SecretArena.Slot
    /// The number of bytes held.
    public let count: Int

    /// Allocates `count` zeroed bytes.
    /// - Throws: `SodiumError.outOfMemory` when no secret memory can be had.
    public init(count: Int) throws(SodiumError) {
        precondition(count >= 0, "negative secret size")
        // An empty secret still gets a slot: a valid pointer, and a canary to check.
        (pointer, slot) = try SecretArena.shared.allocate(count)
        self.count = count
    }

    /// Copies `bytes` into secret memory. The caller wipes its own copy if it was secret.
    /// - Throws: `SodiumError.outOfMemory`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) throws(SodiumError) {
        try self.init(count: bytes.count)
        if let base = bytes.baseAddress, bytes.count > 0 {
            pointer.copyMemory(from: base, byteCount: bytes.count)
        }
    }

    /// Copies an array of public bytes (tests, or bytes that were never secret) into secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public convenience init(_ bytes: [UInt8]) throws(SodiumError) {
        try self.init(count: bytes.count)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { pointer.copyMemory(from: base, byteCount: $0.count) } }
    }

    /// `count` bytes from libsodium's CSPRNG, straight into secret memory.
    /// - Throws: `SodiumError.outOfMemory`.
    public static func random(count: Int) throws(SodiumError) -> SecretBytes {
        let secret = try SecretBytes(count: count)
        randombytes_buf(secret.pointer, count)
        return secret
    }

    deinit {
        // Wiped before the slot can be handed out again.
        SecretArena.shared.release(pointer, count: count, slot: slot)
    }

    /// Calls `body` with the bytes. The buffer must not escape the closure.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Calls `body` with writable bytes. The buffer must not escape the closure.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// A new secret holding `count` bytes from `offset` on.
    /// - Throws: `SodiumError.outOfMemory`.
    public func slice(_ offset: Int, _ length: Int) throws(SodiumError) -> SecretBytes {
        precondition(offset >= 0 && length >= 0 && offset + length <= count, "secret slice out of range")
        return try SecretBytes(copying: UnsafeRawBufferPointer(start: pointer + offset, count: length))
    }

    /// Constant-time equality (`sodium_memcmp`); different lengths are simply unequal.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }

    /// Constant-time comparison with public bytes of the same length.
    public func constantTimeEquals(_ bytes: [UInt8]) -> Bool {
        guard count == bytes.count else { return false }
        guard count > 0 else { return true }
        return bytes.withUnsafeBytes { sodium_memcmp(pointer, $0.baseAddress!, count) == 0 }
    }

    /// Never the bytes: only their number.
    public var description: String { "SecretBytes(\(count) bytes)" }
    /// Never the bytes: only their number.
    public var debugDescription: String { description }
}

/// Overwrites a public buffer that briefly held secret bytes.
public func wipe(_ bytes: inout [UInt8]) {
    Sodium.ensureInitialized()
    bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { sodium_memzero(base, $0.count) } }
}
