internal import CSodium
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where every `SecretBytes` lives: a few large `sodium_malloc` regions ("arenas"), each with
/// libsodium's guard pages around it, locked in memory when the system allows and excluded from
/// core dumps, with secrets carved from them in size classes.
///
/// Why not one `sodium_malloc` per secret, as before: every such mapping costs the process
/// several kernel mappings (guard pages, the locked region), so one process could hold only
/// about 65,000 secrets (`vm.max_map_count`), and each allocation cost an mmap, two mprotects
/// and an mlock. Here a secret costs a slot; the kernel sees a handful of arenas.
///
/// What is kept of `sodium_malloc`'s protection, and what is not (SECURITY.md, "Secret memory"):
/// - never ordinary heap: arenas are `sodium_malloc` regions (locked, not dumped, guard pages);
/// - wiped on free: a freed slot is zeroed at once, before it can be handed out again;
/// - overflow: a guard page stops a run off either end of an arena, but not from one secret into
///   its neighbour; instead a random canary follows every secret and is checked when it is freed
///   (a mismatch stops the process, as `sodium_free` does);
/// - an arena that holds no live secret is made inaccessible (`sodium_mprotect_noaccess`), so a
///   dangling pointer into it faults instead of reading whatever is stored there next.
/// Secrets larger than the biggest size class still get a `sodium_malloc` region each: they are
/// few at a time (a whole payload, an output buffer), never one per entry.
final class SecretArena: @unchecked Sendable {
    /// The allocator of the process. Thread-safe: every call takes its mutex.
    static let shared = SecretArena()

    /// Slot sizes, canary included. A secret takes the smallest slot that holds it and its canary;
    /// the largest holds a whole payload of the biggest size a blob may carry (16 KiB) and its writer.
    static let slotSizes = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
    /// Bytes of canary after every secret in an arena.
    static let canaryByteCount = 16
    /// The first arena's size; each further one doubles, up to `maximumArenaByteCount`.
    static let firstArenaByteCount = 64 * 1024
    static let maximumArenaByteCount = 16 * 1024 * 1024

    /// Where a secret's bytes came from, so that they go back there.
    struct Slot {
        /// The arena index, or -1 for a secret with a region of its own.
        let arena: Int32
        /// The index into `slotSizes` (unused for a region of its own).
        let sizeClass: Int32
    }

    private struct Arena {
        let base: UnsafeMutableRawPointer
        let size: Int
        var used = 0
        var live = 0
        var inaccessible = false
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var arenas: [Arena] = []
    /// Free slots per size class: addresses only (all-zero memory), never secret bytes.
    private var free: [[(pointer: UnsafeMutableRawPointer, arena: Int32)]]
    private let canary: [UInt8]

    private init() {
        Sodium.ensureInitialized()
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        free = Array(repeating: [], count: Self.slotSizes.count)
        // Not a secret: it only has to be unpredictable to code that overruns a buffer by mistake.
        var c = [UInt8](repeating: 0, count: Self.canaryByteCount)
        randombytes_buf(&c, c.count)
        canary = c
    }

    /// `count` zeroed bytes of secret memory, and where they came from.
    /// - Throws: `SodiumError.outOfMemory` when no arena (or region) can be had.
    func allocate(_ count: Int) throws(SodiumError) -> (UnsafeMutableRawPointer, Slot) {
        let needed = count + Self.canaryByteCount
        guard let sizeClass = Self.slotSizes.firstIndex(where: { $0 >= needed }) else {
            // Too large for a slot: a region of its own, as sodium_malloc always gave. sodium_malloc
            // fills it with garbage bytes; a new secret starts zeroed.
            guard let p = sodium_malloc(count) else { throw .outOfMemory }
            sodium_memzero(p, count)
            return (p, Slot(arena: -1, sizeClass: -1))
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let pointer: UnsafeMutableRawPointer
        let arena: Int
        if let f = free[sizeClass].popLast() {
            (pointer, arena) = (f.pointer, Int(f.arena))
        } else {
            arena = try arenaWithRoom(Self.slotSizes[sizeClass])
            pointer = arenas[arena].base + arenas[arena].used
            arenas[arena].used += Self.slotSizes[sizeClass]
        }
        if arenas[arena].inaccessible {
            guard sodium_mprotect_readwrite(arenas[arena].base) == 0 else {
                free[sizeClass].append((pointer, Int32(arena)))
                throw .unexpectedFailure(call: "sodium_mprotect_readwrite")
            }
            arenas[arena].inaccessible = false
        }
        arenas[arena].live += 1
        // Slots are all zero while free; only the canary goes in.
        canary.withUnsafeBytes { (pointer + count).copyMemory(from: $0.baseAddress!, byteCount: Self.canaryByteCount) }
        return (pointer, Slot(arena: Int32(arena), sizeClass: Int32(sizeClass)))
    }

    /// Wipes a secret's bytes and gives its slot back.
    func release(_ pointer: UnsafeMutableRawPointer, count: Int, slot: Slot) {
        guard slot.arena >= 0 else {
            // sodium_free wipes the region before unmapping it.
            sodium_free(pointer)
            return
        }
        // An overrun of a neighbour's secret into this one (or of this one past its end) would
        // have changed the canary: stop rather than go on with memory that was written wrongly.
        let intact = canary.withUnsafeBytes { sodium_memcmp(pointer + count, $0.baseAddress!, Self.canaryByteCount) == 0 }
        guard intact else { fatalError("secret memory overrun detected") }
        sodium_memzero(pointer, count + Self.canaryByteCount)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let a = Int(slot.arena)
        free[Int(slot.sizeClass)].append((pointer, slot.arena))
        arenas[a].live -= 1
        if arenas[a].live == 0 {
            // Nothing secret is left in it (every slot is zero); a stray pointer into it now faults.
            // A failure only loses that extra check, so it is not fatal.
            arenas[a].inaccessible = sodium_mprotect_noaccess(arenas[a].base) == 0
        }
    }

    /// The index of an arena with `bytes` unused at its end, making a new one when none has.
    private func arenaWithRoom(_ bytes: Int) throws(SodiumError) -> Int {
        if let last = arenas.indices.last, arenas[last].size - arenas[last].used >= bytes { return last }
        // The end of a full arena is not carved further: its slots come back through `free`.
        let size = arenas.isEmpty ? Self.firstArenaByteCount : min(Self.firstArenaByteCount << arenas.count, Self.maximumArenaByteCount)
        // sodium_malloc ends the region at its trailing guard page and keeps a 16-byte canary of
        // its own before it: asking for a whole number of pages less those 16 bytes wastes no page.
        let usable = size - 16
        guard let p = sodium_malloc(usable) else { throw .outOfMemory }
        sodium_memzero(p, usable)
        arenas.append(Arena(base: p, size: usable))
        return arenas.count - 1
    }

    /// What the arenas hold now, for tests and the benchmark: arenas, bytes carved, live secrets.
    var statistics: (arenas: Int, bytes: Int, live: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (arenas.count, arenas.reduce(0) { $0 + $1.size }, arenas.reduce(0) { $0 + $1.live })
    }
}
