import XCTest
@testable import VaultKit

/// What a sealed box does not give, shown: anyone holding only the public key (which is
/// published) makes a blob that opens, with any `from` and `label` they like. SECURITY.md says
/// what an integrator does about it.
final class ForgeryTests: XCTestCase {
    func testABlobMadeWithOnlyThePublicKeyOpens() throws {
        let integrator = try KeyPair.generate()
        // The forger has the recipient string from the integration manual, nothing else.
        let published = try PublicKey(recipient: integrator.publicKey.recipient)
        var forged = samplePayload(to: published, label: "Acme BV")
        forged.from = "Acme BV finance department"
        let text = try Handoff.seal(forged, to: published)

        let opened = try XCTUnwrap(Handoff.open(Array(text.utf8), keys: [integrator], now: Handoff.now()).first).result.get()
        XCTAssertEqual(opened.payload.label, "Acme BV")
        XCTAssertEqual(opened.payload.from, "Acme BV finance department", "the claim is whatever the sealer wrote")
    }

    func testTheForgerCannotReplaceAnEntryUnasked() async throws {
        // What limits the damage: a label in use is refused without --replace, and the
        // integrator's own label (--as) decides where a blob goes.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vault-forgery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try KeyFile.create(at: directory.appendingPathComponent("k").path)
        let store = try await Keystore.create(at: directory.appendingPathComponent("ks").path,
                                              protection: .keyFile(path: directory.appendingPathComponent("k").path))
        let identity = try await store.identity()
        let genuine = try Handoff.seal(samplePayload(to: identity.publicKey, label: "Acme BV"), to: identity.publicKey)
        let forged = try Handoff.seal(samplePayload(to: identity.publicKey, label: "Acme BV"), to: identity.publicKey)
        let first = await Receiver.receive(Array(genuine.utf8), into: store, options: .init(), now: Handoff.now(), identity: identity)
        XCTAssertNotNil(try? first[0].result.get())
        let second = await Receiver.receive(Array(forged.utf8), into: store, options: .init(), now: Handoff.now(), identity: identity)
        guard case .failure(.keystore(.labelInUse)) = second[0].result else { return XCTFail("a forged blob replaced an entry unasked") }
        let quarantined = await Receiver.receive(Array(forged.utf8), into: store, options: .init(label: "Unverified: Acme BV?"),
                                                 now: Handoff.now(), identity: identity)
        XCTAssertEqual(try quarantined[0].result.get().label, "Unverified: Acme BV?")
    }
}
