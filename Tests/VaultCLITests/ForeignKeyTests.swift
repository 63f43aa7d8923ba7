import XCTest

/// A key of another kind (FORMAT.md §1 class `prefix`, e.g. an age key) given where a recipient
/// goes is refused as such, not as a missing file.
final class ForeignKeyTests: CLITestCase {
    let ageKey = "age1wncupz55qpwe2v97k26ndsu225zhy0rt03ut8hutfdjhszsyq3ksssm7r7"

    func testFingerprintNamesTheForeignPrefix() throws {
        let r = try run("fingerprint", ageKey)
        assertFails(r, 2, "another kind", "prefix 'age'", "vault1")
        XCTAssertEqual(r.stdout, "")
    }

    func testSealNamesTheForeignPrefix() throws {
        try writeInput()
        let r = try run("seal", "--to", ageKey, "--label", "Acme", "--input", "creds.json", "-o", "out.vault")
        assertFails(r, 2, "another kind", "prefix 'age'")
        XCTAssertFalse(try files().contains("out.vault"))
    }
}
