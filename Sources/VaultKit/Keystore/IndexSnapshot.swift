/// The index snapshot (docs/KEYSTORE.md §2.7): every live record's clear header and position,
/// sorted by (lookup key, sequence), so a cold open binary-searches it in place instead of
/// scanning the log. Not encrypted (it holds only what frames show in clear); authenticated by
/// the state: the state's index digest covers the snapshot's header and fence, and the fence
/// holds a hash of every page of rows.
///
/// Body: covers 8 · frames before 8 · last sequence covered 8 · row count R 8 · page count P 4 ·
/// fence (first row's lookup key 16 · BLAKE2b-32 of the page's rows) × P · rows (40 bytes) × R.
final class IndexSnapshot {
    static let headerByteCount = 36
    static let fenceEntryByteCount = 48
    static let rowByteCount = 40
    static let rowsPerPage = 102

    let position: Int
    let length: Int
    let sequence: UInt64
    let framesBefore: Int
    let lastSequenceCovered: UInt64
    let rowCount: Int
    let pageCount: Int
    private let fenceKeys: [LookupKey]
    private let fenceHashes: [[UInt8]]
    private let logStart: Int
    private var pages: [Int: [FrameRef]] = [:]

    var end: Int { position + length }

    private init(position: Int, length: Int, sequence: UInt64, framesBefore: Int, lastSequenceCovered: UInt64, rowCount: Int,
                 fenceKeys: [LookupKey], fenceHashes: [[UInt8]], logStart: Int) {
        self.position = position; self.length = length; self.sequence = sequence; self.framesBefore = framesBefore
        self.lastSequenceCovered = lastSequenceCovered; self.rowCount = rowCount; pageCount = fenceKeys.count
        self.fenceKeys = fenceKeys; self.fenceHashes = fenceHashes; self.logStart = logStart
    }

    static func pages(for rows: Int) -> Int { (rows + rowsPerPage - 1) / rowsPerPage }

    static func hash(_ b: [UInt8]) -> [UInt8] {
        // Unkeyed: the state that holds the digest is MAC'd.
        (try? GenericHash.hashPublic(b, length: 32)) ?? [UInt8](repeating: 0xff, count: 32)
    }

    /// The index frame for `rows` (sorted by key, then sequence), to be written at `position`
    /// with sequence number `sequence`; and its digest for the state.
    static func build(rows: [FrameRef], position: Int, sequence: UInt64, framesBefore: Int,
                      lastSequenceCovered: UInt64) -> (frame: [UInt8], digest: [UInt8]) {
        let p = pages(for: rows.count)
        let length = FrameHeader.byteCount + headerByteCount + p * fenceEntryByteCount + rows.count * rowByteCount
        var rowBytes: [UInt8] = []
        rowBytes.reserveCapacity(rows.count * rowByteCount)
        for r in rows {
            rowBytes += r.key.bytes
            rowBytes += [r.type.rawValue, 0, 0, 0]
            rowBytes += be64(r.sequence) + be64(UInt64(r.position)) + be32(UInt32(r.length))
        }
        var frame = be32(UInt32(length)) + [RecordType.index.rawValue, 0] + be64(sequence)
        frame += [UInt8](repeating: 0, count: FrameHeader.lookupKeyByteCount + FrameHeader.nonceByteCount)
        frame += be64(UInt64(position)) + be64(UInt64(framesBefore)) + be64(lastSequenceCovered)
        frame += be64(UInt64(rows.count)) + be32(UInt32(p))
        for i in 0..<p {
            let lo = i * rowsPerPage * rowByteCount
            let hi = min(rowBytes.count, lo + rowsPerPage * rowByteCount)
            frame += rows[i * rowsPerPage].key.bytes
            frame += hash(Array(rowBytes[lo..<hi]))
        }
        let digest = hash(frame)
        frame += rowBytes
        precondition(frame.count == length, "index frame length")
        return (frame, digest)
    }

    /// Reads the snapshot at `position`: its header and fence, checked against `digest` (from
    /// the MAC'd state). Pages of rows are read and checked when a lookup needs them.
    /// - Throws: `.damaged` for any mismatch or value out of range.
    static func load(_ s: any KeystoreStorageSession, position: Int, digest: [UInt8], logStart: Int,
                     logEnd: Int) throws(KeystoreError) -> IndexSnapshot {
        let head = try s.bytes(ofFrameAt: position, offset: 0, count: FrameHeader.byteCount + headerByteCount)
        guard head.count == FrameHeader.byteCount + headerByteCount else { throw .damaged(detail: "index snapshot is cut short") }
        let ref = try head.withBytes { (b) throws(KeystoreError) -> FrameRef in
            try FrameHeader.parse(b, at: 0, position: position, available: logEnd - position)
        }
        guard ref.type == .index, head[14..<54].allSatisfy({ $0 == 0 }) else { throw .damaged(detail: "index position names no index snapshot") }
        var r = ByteReader(head, at: FrameHeader.byteCount, what: "index snapshot")
        let covers = try r.int("covered position", max: Limits.maxPosition)
        let before = try r.int("frame count", max: Limits.maxPosition)
        let last = try r.u64()
        let rows = try r.int("row count", max: FrameHeader.maxIndexFrameByteCount / rowByteCount)
        let p = Int(try r.u32())
        guard covers == position, last < ref.sequence, p == pages(for: rows),
              ref.length == FrameHeader.byteCount + headerByteCount + p * fenceEntryByteCount + rows * rowByteCount else {
            throw .damaged(detail: "index snapshot header out of range")
        }
        let fence = try s.bytes(ofFrameAt: position, offset: head.count, count: p * fenceEntryByteCount)
        guard fence.count == p * fenceEntryByteCount else { throw .damaged(detail: "index snapshot is cut short") }
        guard hash(head + fence) == digest else { throw .damaged(detail: "index snapshot does not match the committed state") }
        var keys: [LookupKey] = []
        var hashes: [[UInt8]] = []
        keys.reserveCapacity(p)
        for i in 0..<p {
            let o = i * fenceEntryByteCount
            keys.append(LookupKey(Array(fence[o..<(o + 16)])))
            hashes.append(Array(fence[(o + 16)..<(o + 48)]))
            if i > 0, keys[i] < keys[i - 1] { throw .damaged(detail: "index snapshot fence out of order") }
        }
        return IndexSnapshot(position: position, length: ref.length, sequence: ref.sequence, framesBefore: before,
                             lastSequenceCovered: last, rowCount: rows, fenceKeys: keys, fenceHashes: hashes, logStart: logStart)
    }

    /// The rows of page `i`, read and checked against the fence on first use.
    func page(_ i: Int, _ s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        if let cached = pages[i] { return cached }
        let first = i * Self.rowsPerPage
        let n = min(rowCount - first, Self.rowsPerPage)
        let offset = FrameHeader.byteCount + Self.headerByteCount + pageCount * Self.fenceEntryByteCount + first * Self.rowByteCount
        let b = try s.bytes(ofFrameAt: position, offset: offset, count: n * Self.rowByteCount)
        guard b.count == n * Self.rowByteCount, Self.hash(b) == fenceHashes[i] else {
            throw .damaged(detail: "index snapshot page \(i) does not match its hash")
        }
        var rows: [FrameRef] = []
        rows.reserveCapacity(n)
        for k in 0..<n {
            let o = k * Self.rowByteCount
            let key = LookupKey(high: readBE64(b, o), low: readBE64(b, o + 8))
            let seq = readBE64(b, o + 20)
            let pos = readBE64(b, o + 28)
            let len = Int(readBE32(b, o + 36))
            guard let type = RecordType(rawValue: b[o + 16]), type != .removal, type != .index,
                  b[o + 17] == 0, b[o + 18] == 0, b[o + 19] == 0,
                  seq > 0, seq <= lastSequenceCovered,
                  pos >= UInt64(logStart), pos < UInt64(position),
                  (FrameHeader.minFrameByteCount...FrameHeader.maxFrameByteCount).contains(len), Int(pos) + len <= position else {
                throw .damaged(detail: "index snapshot page \(i): row \(k) out of range")
            }
            let row = FrameRef(position: Int(pos), length: len, type: type, sequence: seq, key: key)
            if let prev = rows.last, !(prev.key < key || (prev.key == key && prev.sequence < seq)) {
                throw .damaged(detail: "index snapshot page \(i): rows out of order")
            }
            rows.append(row)
        }
        guard rows.first?.key == fenceKeys[i], i + 1 == pageCount || !(fenceKeys[i + 1] < rows[rows.count - 1].key) else {
            throw .damaged(detail: "index snapshot page \(i) does not match the fence")
        }
        pages[i] = rows
        return rows
    }

    /// The rows with lookup key `key`, oldest first: a binary search of the fence, then the
    /// one or two pages that can hold them.
    func rows(for key: LookupKey, _ s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        var lo = 0, hi = pageCount
        while lo < hi {   // the first page whose first key is not below `key`
            let mid = (lo + hi) / 2
            if fenceKeys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        var out: [FrameRef] = []
        var i = max(0, lo - 1)
        while i < pageCount, !(key < fenceKeys[i]) {
            for r in try page(i, s) where r.key == key { out.append(r) }
            i += 1
        }
        return out
    }

    /// Every row (a listing, or building the next snapshot).
    func allRows(_ s: any KeystoreStorageSession) throws(KeystoreError) -> [FrameRef] {
        var out: [FrameRef] = []
        out.reserveCapacity(rowCount)
        for i in 0..<pageCount { out += try page(i, s) }
        return out
    }
}
