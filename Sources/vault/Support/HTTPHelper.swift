import FoundationEssentials
import Glibc
import VaultKit

/// The `ExactTransport` of the command line: runs the `vault-http` helper that lies beside the
/// `vault` binary, hands it the request on a pipe and reads the answer from another. The
/// helper alone links the HTTP client, so no other command pays for loading it
/// (docs/PERFORMANCE.md). Secrets cross only the two pipes, never argv or the environment.
struct HTTPHelperTransport: ExactTransport {
    /// The helper's path: `vault-http` beside the running binary.
    static func helperPath() -> String? { Path.besideThisProgram("vault-http") }

    func post(_ request: ExactHTTPRequest) async throws(ExactTransportError) -> ExactHTTPAnswer {
        guard let helper = Self.helperPath() else { throw .unavailable(detail: "vault-http is not installed beside vault") }
        let message: SecretBytes
        do { message = try HTTPHelperWire.encode(request) } catch { throw .unavailable(detail: "out of secret memory") }
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0 else { throw .unavailable(detail: "no pipe") }
        guard pipe(&fromChild) == 0 else { close(toChild[0]); close(toChild[1]); throw .unavailable(detail: "no pipe") }
        // vault starts no other process meanwhile; close-on-exec keeps our ends out of the helper.
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(helper), nil]
        defer { argv.forEach { free($0) } }
        // An empty environment but for what curl needs to find a proxy or the CA store.
        let keep = ["PATH", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"]
        let env: [UnsafeMutablePointer<CChar>?] = keep.compactMap { k in getenv(k).map { strdup(k + "=" + String(cString: $0)) } } + [nil]
        defer { env.forEach { free($0) } }
        let rc = posix_spawn(&pid, helper, &actions, nil, argv, env)
        close(toChild[0])
        close(fromChild[1])
        guard rc == 0 else {
            close(toChild[1]); close(fromChild[0])
            throw .unavailable(detail: "vault-http cannot be started (\(Errno.text(rc)))")
        }
        defer { close(fromChild[0]) }
        // A request is a few kilobytes, well under a pipe's buffer: writing it all before
        // reading cannot deadlock.
        let wrote = message.withUnsafeBytes { writeAll(toChild[1], $0) }
        close(toChild[1])
        guard wrote else { reap(pid, kill: true); throw .unavailable(detail: "vault-http stopped before reading the request") }
        let deadline = Date().addingTimeInterval(request.timeout + 10)
        let answer = readAnswer(fromChild[0], until: deadline)
        reap(pid, kill: answer == nil)
        guard let answer else { throw .noAnswer(reason: "timeout") }
        switch HTTPHelperWire.decodeAnswer(answer) {
        case .success(let a): return a
        case .failure(let e): throw e
        }
    }

    private func writeAll(_ fd: Int32, _ b: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < b.count {
            let n = write(fd, b.baseAddress! + done, b.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    /// Reads to end of file into secret memory, or nil when `deadline` passes first.
    private func readAnswer(_ fd: Int32, until deadline: Date) -> SecretBytes? {
        guard let buffer = try? SecretBytes(count: HTTPHelperWire.maximumMessage) else { return nil }
        var n = 0
        let finished = buffer.withUnsafeMutableBytes { b -> Bool in
            while n < b.count {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return false }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, Int32(min(left, 3600) * 1000) + 1)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                let r = read(fd, b.baseAddress! + n, b.count - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { return true }
                n += r
            }
            return true
        }
        return finished ? try? buffer.slice(0, n) : nil
    }

    private func reap(_ pid: pid_t, kill stop: Bool) {
        if stop { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
