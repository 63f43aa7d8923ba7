#if PostgreSQL
import NIOCore
import PostgresNIO
import VaultKit

/// One access to the keystore's rows (exclusive: under the advisory lock; shared: inside one
/// read-only snapshot transaction). Positions are the byte offsets of the file image, so every
/// answer is the bytes a keystore file would give: a frame row missing in the middle reads as
/// the file cut there, which the keystore reports as damage.
final class PostgresSession: KeystoreStorageSession {
    static let stateByteCount = 256
    /// A frame's clear header: length 4 · type 1 · flags 1 · sequence 8 · lookup key 16 (then the nonce).
    static let clearHeaderByteCount = 30
    /// Frames per INSERT statement (5 parameters each, far below the protocol's 65,535).
    static let rowsPerInsert = 1000

    let link: PostgresLink
    let schema: String
    let exclusive: Bool
    let location: String
    let transaction: (() throws(KeystoreError) -> Void) throws(KeystoreError) -> Void

    init(link: PostgresLink, schema: String, exclusive: Bool, location: String,
         transaction: @escaping (() throws(KeystoreError) -> Void) throws(KeystoreError) -> Void) {
        self.link = link
        self.schema = schema
        self.exclusive = exclusive
        self.location = location
        self.transaction = transaction
    }

    static func bytes(_ b: ByteBuffer) -> [UInt8] { b.getBytes(at: b.readerIndex, length: b.readableBytes) ?? [] }

    static func decode<T: PostgresDecodable>(_ row: PostgresRow, _ type: T.Type, _ location: String) throws(KeystoreError) -> T {
        do { return try row.decode(T.self) } catch {
            throw .serverRefused(location: location, detail: "an answer of an unexpected type (is this a vault keystore schema?)")
        }
    }

    /// A row of a position (or slot) and bytes.
    static func pair(_ row: PostgresRow, _ location: String) throws(KeystoreError) -> (Int64, ByteBuffer) {
        do { return try row.decode((Int64, ByteBuffer).self) } catch {
            throw .serverRefused(location: location, detail: "an answer of an unexpected type (is this a vault keystore schema?)")
        }
    }

    private func sql(_ text: String) -> PostgresQuery { PostgresQuery(unsafeSQL: text.replacingOccurrences(of: "$S", with: schema)) }

    func header() throws(KeystoreError) -> [UInt8] {
        guard let r = try link.run(sql("SELECT bytes FROM $S.header")).first else { return [] }
        return Self.bytes(try Self.decode(r, ByteBuffer.self, location))
    }

    func states() throws(KeystoreError) -> [[UInt8]] {
        var out: [[UInt8]] = [[], []]
        for r in try link.run(sql("SELECT slot::bigint, bytes FROM $S.state ORDER BY slot")) {
            let (slot, b) = try Self.pair(r, location)
            if (0...1).contains(slot) { out[Int(slot)] = Self.bytes(b) }
        }
        return out
    }

    /// The bytes of positions `from..<to`, as the file would hold them: from the frame that
    /// holds `from`, consecutive rows only (a gap ends the answer, like the end of a file).
    func frames(from: Int, to: Int) throws(KeystoreError) -> [UInt8] {
        guard to > from else { return [] }
        let q: PostgresQuery = """
            SELECT position, bytes FROM \(unescaped: schema).frame WHERE position < \(to) AND position >= \
            coalesce((SELECT max(position) FROM \(unescaped: schema).frame WHERE position <= \(from)), \(from)) ORDER BY position
            """
        var out: [UInt8] = []
        var cursor = from
        for r in try link.run(q) {
            let (p, b) = try Self.pair(r, location)
            let position = Int(p)
            guard position <= cursor, position + b.readableBytes > cursor else { break }
            let skip = cursor - position
            let take = min(b.readableBytes - skip, to - cursor)
            out += b.getBytes(at: b.readerIndex + skip, length: take) ?? []
            cursor += take
            if cursor >= to { break }
        }
        return out
    }

    func bytes(ofFrameAt position: Int, offset: Int, count: Int) throws(KeystoreError) -> [UInt8] {
        guard offset >= 0, count > 0 else { return [] }
        let q: PostgresQuery = "SELECT substring(bytes FROM \(offset + 1)::integer FOR \(count)::integer) FROM \(unescaped: schema).frame WHERE position = \(position)"
        guard let r = try link.run(q).first else { return [] }
        return Self.bytes(try Self.decode(r, ByteBuffer.self, location))
    }

    func storedEnd() throws(KeystoreError) -> Int {
        let rows = try link.run(sql("SELECT position + octet_length(bytes) FROM $S.frame ORDER BY position DESC LIMIT 1"))
        if let r = rows.first { return Int(try Self.decode(r, Int64.self, location)) }
        // No frames: the log starts after the header and the two state slots.
        let h = try link.run(sql("SELECT octet_length(bytes)::bigint FROM $S.header"))
        guard let r = h.first else { return 0 }
        return Int(try Self.decode(r, Int64.self, location)) + 2 * Self.stateByteCount
    }

    /// One transaction: what an interrupted change left (none: transactions leave nothing, but
    /// rows added by hand after the log end are dropped like a file's tail), the new frames,
    /// then the state slot. Durable when the COMMIT returns (synchronous_commit on).
    func commit(frames: [[UInt8]], at position: Int, state: [UInt8], slot: Int) throws(KeystoreError) {
        precondition(exclusive, "commit needs exclusive access")
        try transaction { () throws(KeystoreError) in
            try link.run("DELETE FROM \(unescaped: schema).frame WHERE position >= \(position)")
            try Self.insert(frames, at: position, link, schema)
            let updated = try link.run("UPDATE \(unescaped: schema).state SET bytes = \(ByteBuffer(bytes: state)) WHERE slot = \(slot) RETURNING slot")
            guard !updated.isEmpty else { throw .damaged(detail: "state slot \(slot) is missing from the database") }
        }
    }

    func replaceAll(header: [UInt8], state: [UInt8], frames: [[UInt8]]) throws(KeystoreError) {
        precondition(exclusive, "replaceAll needs exclusive access")
        try transaction { () throws(KeystoreError) in
            try link.run(sql("DELETE FROM $S.frame"))
            try link.run("UPDATE \(unescaped: schema).header SET bytes = \(ByteBuffer(bytes: header))")
            try link.run("UPDATE \(unescaped: schema).state SET bytes = \(ByteBuffer(bytes: state)) WHERE slot = 0")
            try link.run("UPDATE \(unescaped: schema).state SET bytes = \(ByteBuffer(repeating: 0, count: Self.stateByteCount)) WHERE slot = 1")
            try Self.insert(frames, at: header.count + 2 * Self.stateByteCount, link, schema)
        }
    }

    func storedImage() throws(KeystoreError) -> [UInt8] {
        let h = try header()
        var out = h
        for s in try states() { out += s.count == Self.stateByteCount ? s : [UInt8](repeating: 0, count: Self.stateByteCount) }
        let start = out.count
        out += try frames(from: start, to: try storedEnd())
        return out
    }

    /// Inserts `frames` consecutively from `position`, each with its clear header in columns.
    /// An element may hold several consecutive frames (a restored log comes as one): each is
    /// cut out by its length field into a row of its own.
    static func insert(_ chunks: [[UInt8]], at position: Int, _ link: PostgresLink, _ schema: String) throws(KeystoreError) {
        var frames: [[UInt8]] = []
        for c in chunks {
            var o = 0
            while o < c.count {
                guard c.count - o >= clearHeaderByteCount else { throw .damaged(detail: "a frame shorter than its header") }
                let n = Int(c[o]) << 24 | Int(c[o + 1]) << 16 | Int(c[o + 2]) << 8 | Int(c[o + 3])
                guard n >= clearHeaderByteCount, n <= c.count - o else { throw .damaged(detail: "a frame length out of range at byte \(position + o)") }
                frames.append(o == 0 && n == c.count ? c : Array(c[o..<(o + n)]))
                o += n
            }
        }
        var p = position
        var i = 0
        while i < frames.count {
            let chunk = frames[i..<min(frames.count, i + rowsPerInsert)]
            var binds = PostgresBindings(capacity: chunk.count * 5)
            var values: [String] = []
            for f in chunk {
                guard f.count >= clearHeaderByteCount else { throw .damaged(detail: "a frame shorter than its header") }
                let n = values.count * 5
                values.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4), $\(n + 5))")
                binds.append(Int64(p))
                binds.append(Int16(f[4]))
                binds.append(Int64(bitPattern: f[6..<14].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
                binds.append(ByteBuffer(bytes: f[14..<30]))
                binds.append(ByteBuffer(bytes: f))
                p += f.count
            }
            try link.run(PostgresQuery(unsafeSQL: "INSERT INTO \(schema).frame (position, type, sequence, lookup_key, bytes) VALUES "
                                       + values.joined(separator: ", "), binds: binds))
            i += chunk.count
        }
    }
}
#endif
