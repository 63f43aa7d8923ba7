import Dispatch

/// Runs vault's asynchronous code on the main thread (main.swift makes it the task's executor
/// preference). Without it, every nonisolated `async` function (the runner, the commands, the
/// keystore's API) runs on Swift's global executor, whose first job starts a pool of threads:
/// about 0.6 ms of a one-shot command's 3–5 ms, on this 2-core machine more when the second
/// core is busy (docs/PERFORMANCE.md, "Start-up"). Nothing in vault or VaultKit runs
/// concurrently with a command (batch open's parallel part uses Dispatch threads of its own),
/// so one thread loses nothing.
final class MainThreadExecutor: TaskExecutor {
    static let shared = MainThreadExecutor()

    /// Each job runs from the main queue, which the asynchronous main drains on the main thread.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        DispatchQueue.main.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
