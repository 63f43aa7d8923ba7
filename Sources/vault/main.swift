// The entry point only hands the arguments to the runner, which owns parsing, exit statuses
// and the reporting of every failure (Support/Runner.swift), on the main thread rather than
// Swift's global executor: no thread pool to start (Support/MainThreadExecutor.swift).
import Glibc

#if canImport(Darwin)
if #available(macOS 15.0, *) {
    await withTaskExecutorPreference(MainThreadExecutor.shared) { () async -> Void in await Runner.main(CommandLine.arguments) }
} else {
    await Runner.main(CommandLine.arguments)
}
#else
await withTaskExecutorPreference(MainThreadExecutor.shared) { () async -> Void in await Runner.main(CommandLine.arguments) }
#endif
