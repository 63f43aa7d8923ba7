import VaultKit

/// The blobs `vault open` has opened and not yet stored, stored together in one durable commit
/// once `capacity` blobs are pending (or the files end), then reported in the order they were
/// read: one line per stored blob, once it is durable; one refusal per refused blob. Memory is
/// bounded by `capacity` blobs, whatever the number of files.
struct OpenBatch {
    /// Blobs per commit: large enough that the commit's fsync is shared by many blobs, small
    /// enough that a line is printed soon after its blob was read.
    static let capacity = 256

    let options: Receiver.Options
    /// The unlocked keystore, set before the first blob is added.
    var store: Keystore?
    /// The keystore's identities: a blob sealed to a retired one is refused as such.
    var identities = ReceivingIdentities(opening: [], retired: [:])
    /// Stored blobs so far, and refusals by reason, for the summary.
    private(set) var stored = 0
    var refusals: [String: Int] = [:]

    private var pending: [(place: String, result: Result<Receiver.PreparedBlob, ReceiveError>, report: CLIFailure?)] = []

    init(options: Receiver.Options) { self.options = options }

    /// Whether the next blob should wait for a flush first.
    var isFull: Bool { pending.count >= Self.capacity }

    /// Adds the outcome of opening one blob; `place` names it in messages, `report` words its
    /// refusal when the usual message would not fit.
    mutating func add(_ place: String, _ result: Result<OpenedBlob, OpenError>, report: CLIFailure? = nil) {
        switch result {
        case .failure(let e):
            pending.append((place, .failure(Receiver.refusal(e, identities)), report))
        case .success(let opened):
            let prepared = Receiver.prepare(opened, options: options, now: Handoff.now())
            pending.append((place, prepared, report))
        }
    }

    /// Stores what waits, then reports every pending outcome in order.
    mutating func flush() async throws {
        guard !pending.isEmpty else { return }
        var blobs: [Receiver.PreparedBlob] = []
        for p in pending { if case .success(let b) = p.result { blobs.append(b) } }
        var results: [Result<StoredBlob, ReceiveError>] = []
        if !blobs.isEmpty, let store {
            results = await Receiver.store(blobs, into: store, replace: options.replace, requireRequest: options.requireRequest)
        }
        var next = results.makeIterator()
        for p in pending {
            let outcome: Result<StoredBlob, ReceiveError>
            switch p.result {
            case .failure(let e): outcome = .failure(e)
            case .success: outcome = next.next()!
            }
            switch outcome {
            case .success(let blob):
                stored += 1
                Console.outLine([blob.label, blob.type.rawValue, blob.clientID ?? "-"].map(Escape.forTerminal).joined(separator: "\t"))
                if blob.replaced { Console.hint("\(Escape.quoted(blob.label)): the earlier version is kept in its history (vault show --history)") }
            case .failure(let error):
                refusals[OpenCommand.reason(error), default: 0] += 1
                Console.report(p.report ?? Messages.failure(p.place, error))
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}
