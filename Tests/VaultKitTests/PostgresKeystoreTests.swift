#if PostgreSQL
import Foundation
import XCTest
@testable import VaultKit
@testable import VaultPostgres

/// The PostgreSQL back end's own checks (docs/KEYSTORE.md §13): addresses and password files
/// (no server needed), then, on the server VAULT_TEST_POSTGRES names (scripts/postgres/run),
/// the schema and its versions, rows edited, dropped and swapped by hand with psql (refused,
/// nothing changed), the server down (a clear error, no hang), and migration both ways.
final class PostgresKeystoreTests: XCTestCase {
    // MARK: Addresses and passwords (no server)

    func testAddressesParseWithStrictDefaultsAndNeverHoldAPassword() throws {
        let a = try PostgresAddress(parsing: "postgres://vault@db1.example:6432/keys?sslmode=verify-ca&sslrootcert=/etc/ca.pem&schema=prod",
                                    defaultUser: "me")
        XCTAssertEqual([a.user, a.host, a.database, a.schema], ["vault", "db1.example", "keys", "prod"])
        XCTAssertEqual(a.port, 6432)
        XCTAssertEqual(a.tls, .verifyCA)
        XCTAssertEqual(a.rootCertificate, "/etc/ca.pem")
        XCTAssertEqual(a.description, "postgres://vault@db1.example:6432/keys?schema=prod")
        let d = try PostgresAddress(parsing: "postgresql://[::1]", defaultUser: "me")
        XCTAssertEqual([d.user, d.host, d.database, d.schema], ["me", "::1", "me", "vault"])
        XCTAssertEqual(d.port, 5432)
        XCTAssertEqual(d.tls, .verifyFull, "the default checks the server's certificate and name")
        XCTAssertEqual(d.description, "postgres://me@[::1]:5432/me")
        for bad in ["postgres://vault:hunter2@db/keys", "postgres://vault@db/keys?password=hunter2", "postgres://:hunter2@db/keys"] {
            XCTAssertThrowsError(try PostgresAddress(parsing: bad, defaultUser: "me")) {
                XCTAssertEqual($0 as? PostgresAddressError, .passwordInAddress)
            }
        }
        let refused: [(String, PostgresAddressError)] = [
            ("postgres://db/keys?sslmode=allow", .unsupportedValue("sslmode", "allow")),
            ("postgres://db/keys?schema=Robert'); DROP TABLE x;--", .unsupportedValue("schema", "Robert'); DROP TABLE x;--")),
            ("postgres://db/keys?options=-c", .unknownParameter("options")),
            ("postgres://db:99999/keys", .invalid("the port")),
            ("postgres:///keys", .invalid("the host (a socket folder is not supported: give a host name or address)")),
            ("postgres://db/keys?sslmode=disable&sslrootcert=/ca.pem", .unsupportedValue("sslrootcert", "with sslmode=disable")),
            ("mysql://db/keys", .notAnAddress),
        ]
        for (text, error) in refused {
            XCTAssertThrowsError(try PostgresAddress(parsing: text, defaultUser: "me"), text) { XCTAssertEqual($0 as? PostgresAddressError, error, text) }
        }
    }

    func testPasswordFileLinesMatchAsLibpqReadsThem() throws {
        let a = try PostgresAddress(parsing: "postgres://vault@db1:5432/keys", defaultUser: "me")
        let file = """
            # comment
            db2:5432:keys:vault:other
            db1:5432:keys:admin:notmine
            db1:*:keys:vault:pa\\:ss\\\\word
            *:*:*:*:fallback

            """
        XCTAssertEqual(string(try PostgresPassword.lookup(in: secret(file), for: a)), "pa:ss\\word")
        let b = try PostgresAddress(parsing: "postgres://x@db9/y", defaultUser: "me")
        XCTAssertEqual(string(try PostgresPassword.lookup(in: secret(file), for: b)), "fallback")
        XCTAssertNil(try PostgresPassword.lookup(in: secret("db1:5432:keys:vault\n"), for: a), "a line without a password field")
    }

    // MARK: On a server

    /// A fixture on the server, or a skip when none is named.
    func database() throws -> KeystoreFixture {
        guard TestBackEnd.server != nil else { throw XCTSkip("no PostgreSQL server named (VAULT_TEST_POSTGRES); scripts/postgres/run names one") }
        return try KeystoreFixture(onTestBackEnd: ())
    }

    func schema(_ f: KeystoreFixture) throws -> String { try PostgresAddress(parsing: f.address!, defaultUser: NSUserName()).schema }

    /// Runs SQL with psql as the test's database user (rows edited by hand, as an operator
    /// or an attacker with the database's rights would).
    @discardableResult
    func psql(_ sql: String, _ f: KeystoreFixture? = nil) throws -> String {
        var server = TestBackEnd.server!
        if let q = server.firstIndex(of: "?") {
            let params = server[server.index(after: q)...].split(separator: "&").filter { !$0.hasPrefix("schema=") }
            server = String(server[..<q]) + (params.isEmpty ? "" : "?" + params.joined(separator: "&"))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let prefix = try f.map { "SET search_path TO \(try schema($0)); " } ?? ""
        p.arguments = ["psql", server, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", prefix + sql]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw PSQLFailed(message: String(decoding: e, as: UTF8.self)) }
        return String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PSQLFailed: Error { let message: String }

    func testInitCreatesAVersionedSchemaAndNeverReplacesAKeystore() async throws {
        let f = try database()
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        XCTAssertEqual(try psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version", f), "1,2")
        XCTAssertEqual(try psql("SELECT count(*) FROM frame WHERE type = 4", f), "1")
        let before = try await f.image()
        await assertThrows(.alreadyExists(path: f.path)) { try await f.create() }
        expectEqual(try await f.image(), before)
        // Nothing secret in any column: no label, value or blob id in clear.
        let dump = try psql("SELECT string_agg(encode(bytes, 'escape'), '') FROM frame", f)
        for needle in ["Acme BV", "EKKQh8KqRptS", "1c07724e", "Jan, payroll"] { XCTAssertFalse(dump.contains(needle), needle) }
    }

    func testAnOlderSchemaIsMigratedAndANewerOneRefused() async throws {
        let f = try database()
        let storage = try f.storage() as! PostgresKeystoreStorage
        try await storage.createSchema(upTo: 1)
        expectEqual(try await storage.schemaVersion(), 1)
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        expectEqual(try await storage.schemaVersion(), 2)
        XCTAssertEqual(try psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'frame_ledger_once' AND schemaname = '\(try schema(f))'"), "1")
        try psql("INSERT INTO schema_version (version) VALUES (\(PostgresSchema.current + 1))", f)
        do {
            _ = try await f.open()
            XCTFail("a newer schema was read")
        } catch KeystoreError.serverRefused(_, let detail) {
            XCTAssertTrue(detail.contains("use a newer vault"), detail)
        }
    }

    func testTheDatabaseRefusesASecondLedgerRecordForOneBlob() async throws {
        let f = try database()
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        // Even a client that skipped vault's own replay check cannot store a blob id twice.
        XCTAssertThrowsError(try psql("""
            INSERT INTO frame (position, type, sequence, lookup_key, bytes)
            SELECT position + 100000, type, sequence + 100000, lookup_key, bytes FROM frame WHERE type = 4
            """, f)) { XCTAssertTrue(($0 as? PSQLFailed)?.message.contains("frame_ledger_once") ?? false, "\($0)") }
    }

    /// The bad-input matrix of the file keystore, by hand in psql: each edit is refused when
    /// read, and the refusal changes nothing.
    func testRowsEditedDroppedOrSwappedByHandAreRefused() async throws {
        let f = try database()
        let ks = try await f.create()
        try await ks.insert(sampleEntry(label: "Acme BV", secretValue: "one"))
        try await ks.insert(sampleEntry(label: "Other BV", secretValue: "two"))
        try await ks.setSetting("policy", to: "strict")
        let pristine = try await f.image()
        let wrongKey = f.dir + "/wrong.key"
        try KeyFile.create(at: wrongKey)
        await assertThrows(.wrongKeyFile) { try await f.open(.keyFile(path: wrongKey)) }
        let edits: [(String, String)] = [
            ("a byte of a record's ciphertext", "UPDATE frame SET bytes = \(flip("bytes", "octet_length(bytes) - 4")) WHERE sequence = 3"),
            ("two labels' records swapped", """
                UPDATE frame f SET bytes = o.bytes FROM frame o
                WHERE (f.sequence, o.sequence) IN ((3, 4), (4, 3))
                """),
            ("the last record dropped", "DELETE FROM frame WHERE position = (SELECT max(position) FROM frame)"),
            ("a record in the middle dropped", "DELETE FROM frame WHERE sequence = 4"),
            ("a record's type edited in its bytes", "UPDATE frame SET bytes = set_byte(bytes, 4, 9) WHERE sequence = 3"),
            ("the current state edited", "UPDATE state SET bytes = \(flip("bytes", "20")) WHERE get_byte(bytes, 7) = (SELECT max(get_byte(bytes, 7)) FROM state)"),
            ("both states edited", "UPDATE state SET bytes = \(flip("bytes", "20"))"),
            ("the header edited", "UPDATE header SET bytes = \(flip("bytes", "40"))"),
        ]
        for (what, sql) in edits {
            try psql(sql, f)
            let edited = try await f.image()
            XCTAssertTrue(edited != pristine, what)
            do {
                let reopened = try await f.open()
                _ = try await reopened.list()
                try await reopened.verify()
                // The edited current state: the previous state is current (an interrupted
                // commit), so the last change reads as not made; the frames after it are not lost.
                // (Only reads that log nothing here: a read of secrets would commit its audit
                // record over the interrupted tail, as on a file.)
                if what == "the current state edited" {
                    expectEqual(try await reopened.setting("policy"), nil)
                    XCTAssertGreaterThan(reopened.interruptedWriteBytes, 0, what)
                } else {
                    _ = try await reopened.entry("Acme BV")
                    _ = try await reopened.entry("Other BV")
                    XCTFail("\(what): accepted")
                }
            } catch let e as KeystoreError {
                switch e {
                case .damaged, .wrongKeyFile, .truncated, .notAKeystore: break
                default: XCTFail("\(what): \(e)")
                }
            }
            let after = try await f.image()
            XCTAssertTrue(after == edited, "\(what): the refusal wrote")   // a refusal writes nothing
            try restore(pristine, f)
        }
        expectEqual(string(try await f.open().entry("Acme BV").field("client_secret")), "one")
    }

    /// Puts `image` back, row by row (an operator's restore).
    func restore(_ image: [UInt8], _ f: KeystoreFixture) throws {
        let h = Int(image[10]) << 24 | Int(image[11]) << 16 | Int(image[12]) << 8 | Int(image[13])
        var sql = "BEGIN; DELETE FROM frame; UPDATE header SET bytes = '\\x\(hex(image[0..<h]))';"
        sql += "UPDATE state SET bytes = '\\x\(hex(image[h..<(h + 256)]))' WHERE slot = 0;"
        sql += "UPDATE state SET bytes = '\\x\(hex(image[(h + 256)..<(h + 512)]))' WHERE slot = 1;"
        var p = h + 512
        while p < image.count {
            let n = Int(image[p]) << 24 | Int(image[p + 1]) << 16 | Int(image[p + 2]) << 8 | Int(image[p + 3])
            let f = image[p..<(p + n)]
            let seq = f[f.startIndex + 6..<f.startIndex + 14].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            sql += "INSERT INTO frame VALUES (\(p), \(f[f.startIndex + 4]), \(seq), '\\x\(hex(f[f.startIndex + 14..<f.startIndex + 30]))', '\\x\(hex(f))');"
            p += n
        }
        try psql(sql + "COMMIT;", f)
    }

    /// SQL for `column` with the byte at `offset` inverted.
    func flip(_ column: String, _ offset: String) -> String { "set_byte(\(column), \(offset), 255 - get_byte(\(column), \(offset)))" }

    func hex(_ b: ArraySlice<UInt8>) -> String { b.map { String(format: "%02x", $0) }.joined() }

    func testSplicedHeaderRowOpensNothingAfterARekey() async throws {
        let f = try database()
        let ks = try await f.create()
        try await ks.insert(sampleEntry(label: "before"))
        let second = f.dir + "/second.key"
        try KeyFile.create(at: second)
        try await ks.addUnlockMethod(name: "laptop", .keyFile(path: second))
        let oldHeader = try psql("SELECT encode(bytes, 'hex') FROM header", f)
        try await ks.removeUnlockMethod(name: "laptop")
        try await ks.insert(sampleEntry(label: "after"))
        try psql("UPDATE header SET bytes = decode('\(oldHeader)', 'hex')", f)
        do {
            let spliced = try await f.open(.keyFile(path: second))
            XCTFail("the removed method read \(try await spliced.list().map(\.label))")
        } catch KeystoreError.damaged {}
    }

    func testRowsOfAnotherKeystoreAreRefused() async throws {
        let a = try database(), b = try database()
        let ka = try await a.create()
        try await ka.insert(sampleEntry(label: "A"))
        let kb = try await b.create(.keyFile(path: a.keyPath))   // even under the same key file
        try await kb.insert(sampleEntry(label: "B"))
        try psql("UPDATE frame f SET bytes = o.bytes FROM \(try schema(b)).frame o WHERE f.sequence = 3 AND o.sequence = 3", a)
        do {
            let reopened = try await a.open()
            _ = try await reopened.entry("A")
            try await reopened.verify()
            XCTFail("another keystore's row was read")
        } catch KeystoreError.damaged {}
    }

    /// A database user that may only read (as on a read-only standby): listing works, a read of
    /// secrets is refused because its audit record cannot be stored, until the keystore allows
    /// unlogged reads; the log stays as it was, chain intact.
    func testAUserThatMayOnlyReadReadsSecretsOnlyWhenUnloggedReadsAreAllowed() async throws {
        let f = try database()
        let ks = try await f.create()
        try await ks.insert(sampleEntry())
        let role = "reader_" + hex(Random.bytes(6)[...])
        let password = hex(Random.bytes(12)[...])
        let s = try schema(f)
        try psql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT USAGE ON SCHEMA \(s) TO \(role); "
                 + "GRANT SELECT ON ALL TABLES IN SCHEMA \(s) TO \(role)")
        let address = try PostgresAddress(parsing: f.address!.replacingOccurrences(of: "://vault@", with: "://\(role)@"), defaultUser: "x")
        let reader = try await Keystore.open(storage: try PostgresKeystoreStorage(address: address, password: secret(password)),
                                             unlock: .keyFile(path: f.keyPath))
        expectEqual(try await reader.list().map(\.label), ["Acme BV"])
        let before = try await ks.auditLog()
        var refusal: KeystoreError?
        do { _ = try await reader.entry("Acme BV") } catch { refusal = error }
        guard case .readNotLogged(let cause)? = refusal, case .serverReadOnly(let location, let detail) = cause else {
            return XCTFail("a read of secrets without its audit record: \(String(describing: refusal))")
        }
        XCTAssertEqual(location, address.description)
        XCTAssertTrue(detail.contains("42501"), detail)
        try await ks.setSetting(KeystoreSettingName.unloggedReads, to: "on")
        let read = try await reader.entry("Acme BV")
        XCTAssertEqual(string(read.field("client_secret")), "EKKQh8KqRptS")
        XCTAssertEqual(reader.unloggedReads, 1)
        let after = try await ks.auditLog()
        XCTAssertEqual(after.count, before.count + 1, "only the setting's record")
        expectEqual(after.last?.record.operation, "setting")
        expectEqual(try await ks.verifyAuditLog().problem, nil)
        await (reader.storage as? PostgresKeystoreStorage)?.close()
        try psql("DROP OWNED BY \(role); DROP ROLE \(role)")
    }

    func testAServerThatIsDownIsAClearErrorNamingTheAddressNotAHang() async throws {
        // A port nothing listens on (the test server's port + 1 is never used by the script).
        let a = try PostgresAddress(parsing: "postgres://vault@127.0.0.1:1/vault?sslmode=disable&connect_timeout=2", defaultUser: "me")
        let storage = try PostgresKeystoreStorage(address: a, password: secret("not-sent"), lockTimeout: 1)
        do {
            _ = try await Keystore.open(storage: storage, unlock: .keyFile(path: try KeystoreFixture().keyPath))
            XCTFail("opened a keystore on a closed port")
        } catch KeystoreError.serverUnavailable(let location, let detail) {
            XCTAssertEqual(location, "postgres://vault@127.0.0.1:1/vault")
            XCTAssertFalse(detail.contains("not-sent"))
        }
        // 192.0.2.1 (TEST-NET-1) is never routed: the connect times out, it does not hang.
        let unreachable = try PostgresAddress(parsing: "postgres://vault@192.0.2.1/vault?sslmode=disable&connect_timeout=1", defaultUser: "me")
        do {
            _ = try await PostgresKeystoreStorage(address: unreachable, password: nil).readHeader()
            XCTFail("read a header from nowhere")
        } catch KeystoreError.serverUnavailable(let location, _) {
            XCTAssertEqual(location, "postgres://vault@192.0.2.1:5432/vault")
        }
    }

    func testMigrateAFileIntoTheDatabaseAndBack() async throws {
        let file = try KeystoreFixture()
        let ks = try await file.create()
        let replayed = randomBlobID()
        try await ks.insert(sampleEntry(label: "Acme BV", blobID: replayed, secretValue: "first"))
        try await ks.insert(sampleEntry(label: "Acme BV", secretValue: "second"), replace: true)
        try await ks.insert(sampleEntry(label: "gone"))
        try await ks.remove("gone")
        _ = try await ks.withTokenLease("Acme BV") { _ in
            TokenState(refreshToken: secret("r1"), accessToken: secret("a1"), accessTokenExpires: "2026-11-24T00:10:00Z")
        }
        try await ks.setSetting("policy", to: "strict")
        let db = try database()
        let toDB = try await ks.copy(to: try db.storage())
        XCTAssertEqual(toDB.verify.entries, 1)
        XCTAssertEqual(toDB.verify.versions, 2)
        XCTAssertEqual(toDB.ledger, 3)
        // The copy opens with the same key file, holds the history and refuses the replay.
        let inDB = try await db.open(.keyFile(path: file.keyPath))
        expectEqual(try await inDB.history("Acme BV").map { string($0.field("client_secret")) }, ["first", "second"])
        await assertThrows(.replay(blobID: replayed, label: "Acme BV")) { try await inDB.insert(sampleEntry(label: "x", blobID: replayed)) }
        expectEqual(try await inDB.setting("policy"), "strict")
        // The copy is logged in the source, and the copy's log extends the source's (by the
        // history read above), chain intact.
        let sourceLog = try await ks.auditLog()
        expectEqual(sourceLog.last?.record.operation, "copy")
        expectEqual(sourceLog.last?.record.detail, "to \(db.path)")
        let dbLog = try await inDB.auditLog()
        expectEqual(Array(dbLog.prefix(sourceLog.count)), sourceLog)
        expectEqual(dbLog.dropFirst(sourceLog.count).map(\.record.operation), ["read"])
        expectEqual(try await inDB.verifyAuditLog().problem, nil)
        await assertThrows(.alreadyExists(path: db.path)) { _ = try await ks.copy(to: try db.storage()) }
        let afterRefusal = try await ks.auditLog().count
        XCTAssertEqual(afterRefusal, sourceLog.count, "a refused copy is not logged")
        // And back into a new file: the same records, byte for byte.
        let back = file.dir + "/back.vault"
        let fromDB = try await inDB.copy(to: try FileKeystoreStorage(path: back))
        XCTAssertEqual(fromDB.records, toDB.records + 2, "and the database's own audit records: the history read, this copy")
        let reopened = try await Keystore.open(at: back, unlock: .keyFile(path: file.keyPath))
        expectEqual(try await reopened.history("Acme BV").count, 2)
        // The history read above is logged in the database too; the file's chain extends it.
        let backLog = try await reopened.auditLog()
        expectEqual(backLog.dropFirst(sourceLog.count).map(\.record.operation), ["read", "copy", "read"])
        expectEqual(Array(backLog.prefix(sourceLog.count)), sourceLog)
        expectEqual(try await reopened.verifyAuditLog().problem, nil)
        let state = try await reopened.withTokenLease("Acme BV") { $0.map { _ in nil } ?? nil }
        XCTAssertEqual(string(state?.refreshToken), "r1")
    }
}
#endif
