import Dispatch
import Glibc
import VaultKit

/// Opening the blobs of many files on every core: decryption and the payload checks are most of
/// the work of a batch `vault open` and need nothing from each other; storing stays in order on
/// one task (OpenBatch).
enum OpenParallel {
    /// A chunk ends after this many files or bytes read (or with one larger file).
    static let chunkFiles = 256
    static let chunkBytes = 8 * 1024 * 1024

    /// The bytes of each file, or why it could not be read, in order; the files are read on every
    /// core. Standard input (`-`) is read here first, once: `standardInput` when it was already
    /// read (by `--as`'s count), and a second `-` finds it at its end, as it would in a loop.
    static func read(_ files: [String], standardInput: [UInt8]?) -> [Result<[UInt8], CLIFailure>] {
        @Sendable func readOne(_ file: String) -> Result<[UInt8], CLIFailure> {
            do { return .success(try InputFile.readPublic(file)) } catch let failure as CLIFailure { return .failure(failure) } catch {
                return .failure(Messages.failure("cannot read \(InputFile.display(file))", error))
            }
        }
        let slots = ReadSlots(count: files.count)
        defer { slots.buffer.deallocate() }
        var stdin = standardInput
        for (i, file) in files.enumerated() where file == "-" {
            (slots.buffer.baseAddress! + i).initialize(to: stdin.map { .success($0) } ?? readOne(file))
            stdin = nil
        }
        let workers = workerCount(files.count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: files.count, by: workers) where files[i] != "-" {
                (slots.buffer.baseAddress! + i).initialize(to: readOne(files[i]))
            }
        }
        return files.indices.map { (slots.buffer.baseAddress! + $0).move() }
    }

    /// Read results handed to the workers; each slot is written by exactly one thread and read
    /// after `concurrentPerform` has returned.
    private final class ReadSlots: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<Result<[UInt8], CLIFailure>>
        init(count: Int) { buffer = .allocate(capacity: max(count, 1)) }
    }

    /// The outcomes of `Handoff.open` for each text (nil for a file that was not read), in order.
    static func open(_ texts: [[UInt8]?], keys: [KeyPair], allowExpired: Bool) -> [[OpenOutcome]?] {
        let workers = workerCount(texts.count)
        let slots = Slots(count: texts.count, keys: keys)
        defer { slots.buffer.deallocate() }
        // Worker w takes texts w, w + workers, …: each slot is written by one thread only.
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: texts.count, by: workers) {
                guard let text = texts[i] else { continue }
                (slots.buffer.baseAddress! + i).initialize(to: Handoff.open(text, keys: slots.keys, now: Handoff.now(), allowExpired: allowExpired))
            }
        }
        return texts.indices.map { texts[$0] == nil ? nil : (slots.buffer.baseAddress! + $0).move() }
    }

    /// One worker per online core, at most 8 and at most one per item. One item needs no
    /// count: `sysconf` reads /sys/devices/system/cpu/online, about 30 µs of a one-blob open.
    private static func workerCount(_ items: Int) -> Int {
        items <= 1 ? 1 : max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8, items))
    }

    /// Result slots and the key pairs, handed to the workers. `@unchecked Sendable` because the
    /// compiler cannot see what holds here: the key pairs are only read (its secret key through
    /// `withUnsafeBytes`, and secret memory is thread-safe), every slot is written by exactly one
    /// worker, and the slots are read only after `concurrentPerform` has returned.
    private final class Slots: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<[OpenOutcome]>
        let keys: [KeyPair]
        init(count: Int, keys: [KeyPair]) {
            buffer = .allocate(capacity: max(count, 1))
            self.keys = keys
        }
    }
}
