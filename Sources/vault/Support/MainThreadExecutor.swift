import Glibc

/// Runs vault's asynchronous code on the main thread (main.swift starts the runner's task with
/// this executor as its preference, then hands the main thread to `run()`). Without it, every
/// nonisolated `async` function (the runner, the commands, the keystore's API) ran on Swift's
/// global executor: the asynchronous main parks the main thread in `dispatch_main` and the
/// global executor starts a pool of threads, four clones and five context switches for a
/// one-shot command, 0.2–0.4 ms of its 3–5 ms on this 2-core machine (docs/PERFORMANCE.md,
/// "Start-up"). Nothing in vault or VaultKit runs concurrently with a command (batch open's
/// parallel part uses Dispatch threads of its own), so one thread loses nothing.
final class MainThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [UnownedJob] = []

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(ready, nil)
    }

    /// Called from any thread (a job resumed by a timer, say): queued for the main thread.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(ready)
        pthread_mutex_unlock(mutex)
    }

    /// Runs the queued jobs on the calling thread, waiting for the next when there is none, for
    /// as long as the process lives: the runner ends it with `exit`.
    func run() -> Never {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty { pthread_cond_wait(ready, mutex) }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(mutex)
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
