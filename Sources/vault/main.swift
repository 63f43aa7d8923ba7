// The entry point only hands the arguments to the runner, which owns parsing, exit statuses
// and the reporting of every failure (Support/Runner.swift).
import Glibc

await Runner.main(CommandLine.arguments)
