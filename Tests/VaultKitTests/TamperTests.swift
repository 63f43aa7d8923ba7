import XCTest
@testable import VaultKit

/// Every single-bit flip and every truncation of a valid blob is refused, releasing nothing.
final class TamperTests: XCTestCase {
    let pair = try! KeyPair.generate()

    private func blob() throws -> [UInt8] {
        let text = try Handoff.seal(samplePayload(to: pair.publicKey), to: pair.publicKey)
        guard case .success(let bytes) = Armor.decode(Array(text.utf8))[0].contents else { throw XCTSkip("unreachable") }
        return bytes
    }

    private func refusal(_ bytes: [UInt8]) -> OpenError? {
        let outcomes = Handoff.open(Array(Armor.encode(bytes).utf8), keys: [pair], now: Handoff.now())
        guard outcomes.count == 1, case .failure(let e) = outcomes[0].result else { return nil }
        return e
    }

    func testEverySingleBitFlipIsRefused() throws {
        let original = try blob()
        XCTAssertNil(refusal(original), "the untouched blob opens")
        var classes: [String: Int] = [:]
        for bit in 0..<(original.count * 8) {
            var flipped = original
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let error = try XCTUnwrap(refusal(flipped), "bit \(bit) was accepted")
            classes[error.className, default: 0] += 1
            // Each region of the blob fails at its own step of §6.
            let expected = switch bit / 8 {
            case 0..<5: "magic"
            case 5: "version"
            case 6..<38: "no_matching_key"
            default: "decrypt"
            }
            XCTAssertEqual(error.className, expected, "bit \(bit)")
        }
        XCTAssertEqual(classes.values.reduce(0, +), original.count * 8)
    }

    func testEveryTruncationIsRefused() throws {
        let original = try blob()
        for length in 0..<original.count {
            let error = try XCTUnwrap(refusal(Array(original.prefix(length))), "truncated to \(length) was accepted")
            // Under 88 bytes the frame is too short; from there on the seal no longer authenticates.
            let expected = length < 5 ? "magic" : length < SealedBlob.minimumLength ? "length" : "decrypt"
            XCTAssertEqual(error.className, expected, "truncated to \(length)")
        }
        // A longer blob (a byte appended) no longer authenticates.
        XCTAssertEqual(refusal(original + [0])?.className, "decrypt")
    }

    func testAHeaderPointingAtAnotherHeldKeyDoesNotOpen() throws {
        // The header is unauthenticated: pointing it at another key we hold only tries that key.
        let other = try KeyPair.generate()
        var bytes = try blob()
        bytes.replaceSubrange(6..<38, with: other.publicKey.digest)
        let outcome = Handoff.open(Array(Armor.encode(bytes).utf8), keys: [pair, other], now: Handoff.now())
        XCTAssertEqual(outcome.first?.result.failureClass, "decrypt")
    }
}

extension Result where Failure == OpenError {
    var failureClass: String? {
        if case .failure(let e) = self { return e.className }
        return nil
    }
}
