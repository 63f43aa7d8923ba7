import Foundation
import XCTest

/// The man pages in docs/man/ are made from the commands' own help by scripts/man (swift-argument-
/// parser's generate-manual plugin), which also records the help they were made from in
/// docs/man/help.json. These tests fail when a command's help changes and the pages were not made
/// again, so the pages a release installs cannot drift from `--help`.
final class ManualPageTests: CLITestCase {
    static let regenerate = "run scripts/man and commit docs/man/"
    let manDirectory = CLI.packageRoot.appendingPathComponent("docs/man")

    func testThePagesWereMadeFromTheHelpOfThisBinary() throws {
        let r = try run("--experimental-dump-help")
        XCTAssertEqual(r.status, 0, r.stderr)
        let current = try commands(in: Data(r.stdout.utf8))
        let recorded = try commands(in: Data(contentsOf: manDirectory.appendingPathComponent("help.json")))
        let added = Set(current.keys).subtracting(recorded.keys).sorted()
        let removed = Set(recorded.keys).subtracting(current.keys).sorted()
        let changed = current.keys.filter { recorded[$0] != nil && recorded[$0] != current[$0] }.sorted()
        XCTAssertTrue(added.isEmpty, "commands without a man page: \(added); \(Self.regenerate)")
        XCTAssertTrue(removed.isEmpty, "man pages of commands that are gone: \(removed); \(Self.regenerate)")
        XCTAssertTrue(changed.isEmpty, "the help of \(changed) changed but its man page did not; \(Self.regenerate)")
    }

    /// help.json and the pages come from the same run of scripts/man: one page per command, named
    /// as `man` finds it (vault-seal.1), carrying the command's name and every option it shows.
    func testEveryCommandOfTheRecordedHelpHasItsPage() throws {
        let help = try JSONSerialization.jsonObject(
            with: Data(contentsOf: manDirectory.appendingPathComponent("help.json"))) as? [String: Any]
        let root = try XCTUnwrap(help?["command"] as? [String: Any])
        var expected: Set<String> = []
        for command in flatten(root) {
            let path = ((command["superCommands"] as? [String]) ?? []) + [command["commandName"] as? String ?? "?"]
            let file = path.joined(separator: "-") + ".1"
            expected.insert(file)
            guard let page = try? String(contentsOf: manDirectory.appendingPathComponent(file), encoding: .utf8) else {
                XCTFail("docs/man/\(file) is missing; \(Self.regenerate)")
                continue
            }
            let name = path.count == 1 ? ".Nm \(path[0])" : ".Nm \"\(path.joined(separator: " "))\""
            XCTAssertTrue(page.contains("\n\(name)\n"), "docs/man/\(file) is not the page of \(path); \(Self.regenerate)")
            for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["shouldDisplay"] as? Bool == true {
                for long in (argument["names"] as? [[String: String]] ?? []) where long["kind"] == "long" {
                    XCTAssertTrue(page.contains("Fl -\(long["name"]!)"),
                                  "docs/man/\(file) lacks --\(long["name"]!); \(Self.regenerate)")
                }
            }
        }
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: manDirectory.path).filter { $0.hasSuffix(".1") })
        let extra = present.subtracting(expected).sorted()
        XCTAssertTrue(extra.isEmpty, "docs/man/ has pages of no command: \(extra); \(Self.regenerate)")
    }

    /// Each command of a dump-help document, by its full name, as canonical JSON without its
    /// subcommands (so a change is reported for the command whose help changed).
    private func commands(in data: Data) throws -> [String: Data] {
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let root = try XCTUnwrap(document?["command"] as? [String: Any], "not a dump-help document")
        var result: [String: Data] = [:]
        for var command in flatten(root) {
            let path = ((command["superCommands"] as? [String]) ?? []) + [command["commandName"] as? String ?? "?"]
            command["subcommands"] = nil
            result[path.joined(separator: " ")] = try JSONSerialization.data(withJSONObject: command, options: [.sortedKeys])
        }
        return result
    }

    private func flatten(_ command: [String: Any]) -> [[String: Any]] {
        [command] + ((command["subcommands"] as? [[String: Any]]) ?? []).flatMap(flatten)
    }
}
