#if PostgreSQL
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import VaultKit

/// One connection to the server, used synchronously from one thread at a time (the storage's
/// access thread, `ThreadBridge`): every call waits for its answer on a semaphore, never on an
/// event loop, and never longer than its time limit, after which the connection is closed and
/// the call fails with `serverUnavailable` (a stopped or unreachable server must not hang vault).
final class PostgresLink: @unchecked Sendable {
    let address: PostgresAddress
    private let configuration: PostgresConnection.Configuration
    /// Seconds one statement may take, beyond the lock wait (which has its own limit).
    let answerTimeout: Double
    private var connection: PostgresConnection?
    /// Statements run on every new connection (the session's limits), before anything else.
    var setup: [String] = []
    private static let ids = NSLock()
    nonisolated(unsafe) private static var nextID = 0
    /// postgres-nio logs nothing of ours: no statement text and no error reaches a log.
    private static let logger = Logger(label: "vault.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// - Parameter password: the password (nil when the server asks for none). postgres-nio keeps
    ///   it as a String for the connection's life: it cannot be wiped (docs/SECURITY.md).
    init(address: PostgresAddress, password: String?, answerTimeout: Double) throws(KeystoreError) {
        self.address = address
        self.answerTimeout = answerTimeout
        var c = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.user,
                                                 password: password, database: address.database,
                                                 tls: try Self.tls(address))
        c.options.connectTimeout = .milliseconds(Int64(address.connectTimeout * 1000))
        configuration = c
    }

    /// The TLS setting for `address.tls`, checking the server's certificate as libpq's modes say.
    private static func tls(_ a: PostgresAddress) throws(KeystoreError) -> PostgresConnection.Configuration.TLS {
        if a.tls == .disable { return .disable }
        var t = TLSConfiguration.makeClientConfiguration()
        switch a.tls {
        case .disable, .prefer, .require: t.certificateVerification = .none
        case .verifyCA: t.certificateVerification = .noHostnameVerification
        case .verifyFull: t.certificateVerification = .fullVerification
        }
        if let root = a.rootCertificate {
            guard FileManager.default.isReadableFile(atPath: root) else { throw .notFound(path: root) }
            t.trustRoots = .file(root)
        }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: t) } catch {
            throw .serverRefused(location: a.description, detail: "cannot set up TLS: \(error)")
        }
        return a.tls == .prefer ? .prefer(context) : .require(context)
    }

    /// The open connection, connecting (again) when there is none or it was closed.
    func connected() throws(KeystoreError) -> PostgresConnection {
        if let c = connection, !c.isClosed { return c }
        connection = nil
        let id = Self.ids.withLock { Self.nextID += 1; return Self.nextID }
        let future = PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                id: id, logger: Self.logger)
        let c = try wait(future, seconds: address.connectTimeout, what: "connecting", closeLate: true)
        connection = c
        for sql in setup {
            _ = try wait(c.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger), seconds: answerTimeout, what: "setting up the session")
        }
        return c
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    func run(_ query: PostgresQuery, timeout: Double? = nil) throws(KeystoreError) -> [PostgresRow] {
        let c = try connected()
        return try wait(c.query(query, logger: Self.logger), seconds: timeout ?? answerTimeout, what: "waiting for an answer").rows
    }

    /// Closes the connection (the server then releases whatever this session held).
    func close() {
        if let c = connection { Self.close(c) }
        connection = nil
    }

    /// Closes `c` and keeps it alive until it is closed (postgres-nio requires a connection to
    /// be closed before it is released).
    private static func close(_ c: PostgresConnection) {
        let f: EventLoopFuture<Void> = c.close()
        f.whenComplete { _ in withExtendedLifetime(c) {} }
    }

    /// Waits for `future` on this (non event-loop) thread for at most `seconds`.
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>, seconds: Double, what: String,
                                   closeLate: Bool = false) throws(KeystoreError) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        future.whenComplete { r in
            // A connection that arrives after we gave up is closed, not leaked.
            if box.set(r) == false, closeLate, case .success(let c as PostgresConnection) = r { Self.close(c) }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            _ = box.set(.failure(ChannelError.connectTimeout(.seconds(Int64(seconds)))))
            close()
            throw .serverUnavailable(location: address.description, detail: "no answer within \(Int(seconds)) s while \(what)")
        }
        switch box.get()! {
        case .success(let v): return v
        case .failure(let e):
            let mapped = Self.keystoreError(e, address.description)
            if case .serverUnavailable = mapped { close() }
            throw mapped
        }
    }

    /// A postgres-nio or network error as the keystore's, worded from the server's SQLSTATE and
    /// message (never from the statement or its parameters).
    static func keystoreError(_ error: any Error, _ location: String) -> KeystoreError {
        guard let e = error as? PSQLError else {
            return .serverUnavailable(location: location, detail: Self.describe(error))
        }
        if e.code == .server, let info = e.serverInfo {
            let state = info[.sqlState] ?? "?????"
            let message = info[.message] ?? "no message"
            switch state {
            case "55P03": return .lockTimeout(path: location, seconds: 0)
            case "57P01", "57P02", "57P03", "57014": return .serverUnavailable(location: location, detail: "\(message) (SQLSTATE \(state))")
            // A read-only transaction or standby, no write privilege, a full disk: the keystore
            // cannot be written here, though it can be read (reads then follow unlogged-reads).
            case "25006", "42501", "53100": return .serverReadOnly(location: location, detail: "\(message) (SQLSTATE \(state))")
            default:
                if state.hasPrefix("08") || state.hasPrefix("53") { return .serverUnavailable(location: location, detail: "\(message) (SQLSTATE \(state))") }
                return .serverRefused(location: location, detail: "\(message) (SQLSTATE \(state))")
            }
        }
        switch e.code {
        case .sslUnsupported: return .serverRefused(location: location, detail: "the server does not offer TLS (sslmode asks for it)")
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return .serverRefused(location: location, detail: "authentication failed (\(e.code)); is a password given (PGPASSFILE or --db-password-file)?")
        case .failedToAddSSLHandler: return .serverRefused(location: location, detail: "TLS failed: \(e.underlying.map(describe) ?? "unknown")")
        case .connectionError:
            return .serverUnavailable(location: location, detail: e.underlying.map(describe) ?? "cannot connect")
        default:
            let cause = e.underlying.map(describe).map { ": \($0)" } ?? ""
            return .serverUnavailable(location: location, detail: "\(e.code)\(cause)")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let c = error as? NIOConnectionError, let first = c.connectionErrors.first {
            return "cannot connect to \(first.target): \(describe(first.error))"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)) }
        if let s = error as? NIOSSLError { return "TLS: \(s)" }
        if let s = error as? BoringSSLError { return "TLS: \(s)" }
        return String(describing: error)
    }
}

/// A result set once, by whichever comes first: the answer or the time limit.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?

    /// False when a result was set already.
    func set(_ r: Result<T, any Error>) -> Bool {
        lock.withLock {
            if value != nil { return false }
            value = r
            return true
        }
    }

    func get() -> Result<T, any Error>? { lock.withLock { value } }
}

/// Runs the storage protocol's synchronous session on a thread of its own. The protocol's
/// session is synchronous (the same Keystore code runs over files and rows), and postgres-nio
/// answers on its event loops: blocking a Swift concurrency thread while waiting (two of them
/// on two cores) could starve the very tasks that answer, and blocking an event loop would
/// deadlock it. A plain thread that waits on semaphores does neither; the calling task is
/// suspended until it finishes, so the closure never runs concurrently with its owner.
enum ThreadBridge {
    private final class Box<T>: @unchecked Sendable {
        var value: T
        init(_ value: T) { self.value = value }
    }

    static func run<R>(_ work: () throws(KeystoreError) -> R) async throws(KeystoreError) -> R {
        let result: Result<R, KeystoreError> = await withoutActuallyEscaping(work) { escapable in
            let job = Box<(() throws(KeystoreError) -> R)?>(escapable)
            let out = Box<Result<R, KeystoreError>?>(nil)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread {
                    out.value = Result { () throws(KeystoreError) -> R in try job.value!() }
                    // Dropped before the caller resumes: the closure must not outlive the call.
                    job.value = nil
                    done.resume()
                }
                thread.stackSize = 4 << 20
                thread.start()
            }
            return out.value!
        }
        return try result.get()
    }
}
#endif
