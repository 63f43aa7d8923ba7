// The entry point only hands the arguments to the runner, which owns parsing, exit statuses
// and the reporting of every failure (Support/Runner.swift). Its task runs on the main thread,
// not on Swift's global executor: no thread pool to start (Support/MainThreadExecutor.swift).
import Glibc

let executor = MainThreadExecutor()
Task.detached(executorPreference: executor) { () async -> Void in await Runner.main(CommandLine.arguments) }
executor.run()
