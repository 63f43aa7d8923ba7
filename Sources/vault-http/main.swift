// vault's HTTP helper: reads one request (HTTPHelperWire) on standard input, makes the POST
// with URLSession and writes the answer on standard output. `vault` runs it only when it must
// talk to Exact Online, so the `vault` binary itself never loads the HTTP client's thirty-odd
// shared libraries (docs/PERFORMANCE.md). Prints nothing else, ever: no message, no log.
import CVaultSys
import Foundation
import VaultExactHTTP
import VaultKit

// It holds the client secret and the tokens: no core file, no ptrace by the same user, and
// it dies with its parent (a vault process killed mid-request leaves no helper behind).
guard CommandLine.arguments.count == 1, vault_sys_disable_core_dumps() == 0, vault_sys_set_not_dumpable() == 0,
      vault_sys_die_with_parent() == 0 else {
    FileHandle.standardError.write(Data("vault-http: vault's HTTP helper; it is started by vault, not by hand\n".utf8))
    exit(2)
}

/// Reads standard input to its end into secret memory.
func readRequest() -> SecretBytes? {
    guard let buffer = try? SecretBytes(count: HTTPHelperWire.maximumMessage) else { return nil }
    var n = 0
    let ok = buffer.withUnsafeMutableBytes { b -> Bool in
        while true {
            let r = read(0, b.baseAddress! + n, b.count - n)
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return false }
            if r == 0 { return true }
            n += r
            if n == b.count { return false }
        }
    }
    return ok ? try? buffer.slice(0, n) : nil
}

func reply(_ result: Result<ExactHTTPAnswer, ExactTransportError>) -> Never {
    guard let message = try? HTTPHelperWire.encode(result) else { exit(1) }
    message.withUnsafeBytes { b in
        var done = 0
        while done < b.count {
            let w = write(1, b.baseAddress! + done, b.count - done)
            if w < 0 && errno == EINTR { continue }
            if w <= 0 { exit(1) }
            done += w
        }
    }
    exit(0)
}

guard let message = readRequest(), let request = HTTPHelperWire.decodeRequest(message) else {
    reply(.failure(.notSent(reason: "bad-request")))
}
// A hard stop past the request's own timeout: a hung client never holds the lease for long.
alarm(UInt32(request.timeout.rounded(.up)) + 5)
do {
    reply(.success(try await URLSessionExactTransport().post(request)))
} catch {
    reply(.failure(error))
}
