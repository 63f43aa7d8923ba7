import FoundationEssentials
import Glibc
import VaultKit

/// `vault connect --listen`: receives Exact's redirect on a loopback redirect URI
/// (`http://localhost:PORT/PATH`), so the code never has to be copied by hand. Plain sockets,
/// bound to the loopback address only: nothing off this machine can connect. One GET to the
/// redirect's path is taken; anything else gets 404 and is ignored.
final class LoopbackListener {
    private let fd: Int32
    private let path: String

    /// Binds the redirect URI's loopback address and port.
    /// - Throws: `CLIFailure` when the URI is not a loopback `http://` one or the port is taken.
    init(redirectURI: String) throws {
        guard let r = ExactEndpoint.loopbackRedirect(redirectURI) else {
            throw CLIFailure.usage("--listen needs a loopback redirect URI (http://localhost:PORT/…, http://127.0.0.1:PORT/…), not \(Escape.quoted(redirectURI))",
                                   hints: ["register such a redirect URI for the app, or leave out --listen and paste the address"])
        }
        path = r.path
        let v6 = r.host == "[::1]"
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CLIFailure.failed("cannot listen for the redirect: \(Errno.text())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var rc: Int32
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(r.port).bigEndian)
            a.sin6_addr = in6addr_loopback
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(r.port).bigEndian)
            // localhost is bound as 127.0.0.1: browsers fall back to it when ::1 refuses.
            inet_pton(AF_INET, r.host == "localhost" ? "127.0.0.1" : r.host, &a.sin_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0, listen(fd, 8) == 0 else {
            let e = errno
            close(fd)
            throw CLIFailure.failed("cannot listen on \(Escape.quoted(redirectURI)): \(Errno.text(e))",
                                    hints: e == EADDRINUSE ? ["another program uses the port; stop it and run vault connect again"] : [])
        }
    }

    deinit { close(fd) }

    /// Waits for the redirect and returns its query (`?code=…&state=…`) in secret memory.
    /// - Throws: `CLIFailure` when `deadline` passes first.
    func waitForRedirect(until deadline: Date) throws -> SecretBytes {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw CLIFailure.failed("no redirect arrived in time", hints: ["run vault connect again, and finish the login in the browser sooner"])
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left, 3600) * 1000) + 1)
            if ready <= 0 { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            defer { close(c) }
            if let query = try handle(c) { return query }
        }
    }

    /// Reads one request head; answers it. Returns the query when it is the redirect.
    private func handle(_ c: Int32) throws -> SecretBytes? {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let head = try SecretBytesReader.head(c, maximum: 8192)
        // "GET /path?query HTTP/1.1": the target is the second word of the first line.
        let target: (path: String, query: Int?, end: Int)? = head.withUnsafeBytes { b in
            guard let lineEnd = b.firstIndex(of: 0x0d) ?? b.firstIndex(of: 0x0a), b.starts(with: Array("GET ".utf8)) else { return nil }
            guard let space = b[4..<lineEnd].firstIndex(of: 0x20) else { return nil }
            let q = b[4..<space].firstIndex(of: UInt8(ascii: "?"))
            return (String(decoding: b[4..<(q ?? space)], as: UTF8.self), q, space)
        }
        guard let target, target.path == path else {
            reply(c, status: "404 Not Found", "This is vault waiting for Exact Online's redirect; nothing else is here.")
            return nil
        }
        reply(c, status: "200 OK", "vault has received Exact Online's answer. You can close this window and go back to the terminal.")
        let start = target.query ?? target.end
        do { return try head.slice(start, target.end - start) } catch { throw Messages.failure("cannot hold the redirect", error) }
    }

    private func reply(_ c: Int32, status: String, _ text: String) {
        let body = "<!doctype html><meta charset=utf-8><title>vault</title><p>\(text)</p>\n"
        let message = "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n" + body
        Console.write(c, Array(message.utf8))
    }
}

/// Reading an HTTP request head (it holds the authorisation code) into secret memory.
enum SecretBytesReader {
    static func head(_ fd: Int32, maximum: Int) throws -> SecretBytes {
        let buffer: SecretBytes
        do { buffer = try SecretBytes(count: maximum) } catch { throw Messages.failure("cannot hold the redirect", error) }
        var n = 0
        buffer.withUnsafeMutableBytes { b in
            while n < b.count {
                let r = read(fd, b.baseAddress! + n, b.count - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { break }
                n += r
                // The head ends with an empty line.
                if n >= 4, b[(n - 4)..<n].elementsEqual([13, 10, 13, 10]) { break }
            }
        }
        do { return try buffer.slice(0, n) } catch { throw Messages.failure("cannot hold the redirect", error) }
    }
}
