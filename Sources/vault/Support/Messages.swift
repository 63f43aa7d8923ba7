import VaultKit

/// The one place where VaultKit's errors become words. Every command wraps a library error with
/// `Messages.failure(context, error)`, which chains the context and the cause
/// ("cannot read 'x.pub': the recipient string has a wrong checksum") and adds the hints.
/// No message here ever contains secret input: the library's errors carry none. Text someone
/// else chose that a library error carries raw (a payload's key names) is escaped here; public
/// input in a context is quoted and escaped by the caller.
enum Messages {
    /// Words for one error: the cause (lower case, no final period) and hints for the next step.
    struct Explanation {
        var text: String
        var hints: [String] = []
    }

    /// A failure with `context` chained before the explanation of `error`.
    static func failure(_ context: String, _ error: any Error, status: ExitStatus = .failed) -> CLIFailure {
        if let failure = error as? CLIFailure { return failure }
        let e = explain(error)
        return CLIFailure(message: context.isEmpty ? e.text : "\(context): \(e.text)", hints: e.hints, status: status)
    }

    /// The explanation of any error a command may meet.
    static func explain(_ error: any Error) -> Explanation {
        switch error {
        case let e as OpenError: open(e)
        case let e as KeystoreError: keystore(e)
        case let e as ExactError: exact(e)
        case let e as ExactTransportError: transport(e)
        case let e as ReceiveError: receive(e)
        case let e as PayloadError: payload(e)
        case let e as Bech32Error: bech32(e)
        case let e as FingerprintError: fingerprint(e)
        case let e as PublicKeyFileError: publicKeyFile(e)
        case let e as RequestError: request(e)
        case let e as SodiumError: sodium(e)
        case let e as SecretKeyTextError: secretKeyText(e)
        case let e as ArmorError: armor(e)
        case let e as JSONError: Explanation(text: json(e))
        case let e as CLIFailure: Explanation(text: e.message, hints: e.hints)
        default: Explanation(text: "unexpected error: \(Escape.forTerminal(String(describing: error)))")
        }
    }

    /// FORMAT.md §6, one message per class.
    static func open(_ e: OpenError) -> Explanation {
        switch e {
        case .armor(let a): armor(a)
        case .base64: armor(.base64)
        case .magic: Explanation(text: "not a vault sealed blob (wrong magic bytes)")
        case .version(let found):
            Explanation(text: "sealed blob format version \(found) is not supported; this program reads version \(SealedBlob.version)",
                        hints: ["a newer vault may read it; or ask the sender to seal with vault format version 1"])
        case .length(let found):
            Explanation(text: "sealed blob is \(found) bytes; a version 1 blob is \(SealedBlob.minimumLength) to \(SealedBlob.maximumLength) bytes",
                        hints: ["the text was damaged or cut; ask the sender to send the file again as an attachment"])
        case .noMatchingKey(let fp):
            Explanation(text: "sealed to another key (\(fp.canonical)), not one held here",
                        hints: ["the sender used another recipient key; send them your public key file (vault recipient)"])
        case .decrypt:
            Explanation(text: "the sealed box does not open: the blob was tampered with or corrupted",
                        hints: ["ask the sender to seal the credentials again"])
        case .payload(let p):
            Explanation(text: "the sealed contents are invalid: \(payload(p).text)",
                        hints: ["the sender's program wrote an invalid payload; ask them to seal again with vault"])
        case .recipientMismatch(let header, let payload):
            Explanation(text: "tampered: the blob's header names \(header.canonical) but its sealed contents name \(payload.canonical)")
        case .expired(let at):
            Explanation(text: "the blob expired at \(at.text)",
                        hints: ["ask the sender to seal the credentials again, or accept it anyway with vault open --allow-expired"])
        }
    }

    /// FORMAT.md §4 armor.
    static func armor(_ e: ArmorError) -> Explanation {
        switch e {
        case .noBlock:
            Explanation(text: "no sealed blob (no \(Armor.sealedBegin) line)",
                        hints: ["the text must hold the whole block, from its BEGIN line to its END line"])
        case .missingEnd:
            Explanation(text: "a sealed blob has a BEGIN line but no END line",
                        hints: ["the text was cut; ask the sender to send the file again as an attachment"])
        case .nestedBegin:
            Explanation(text: "a second BEGIN line inside a sealed blob",
                        hints: ["two blobs were pasted into each other; ask the sender to send each file again"])
        case .base64:
            Explanation(text: "a sealed blob is not valid base64 (damaged in transit)",
                        hints: ["ask the sender to send the file again as an attachment"])
        }
    }

    /// FORMAT.md §5 rules, naming the key and never the value.
    static func payload(_ e: PayloadError) -> Explanation {
        switch e {
        case .json(let j): Explanation(text: json(j))
        // The key is the sender's (an unknown or misspelt one): escaped, never raw.
        case .field(let key, let rule): Explanation(text: "\(Escape.quoted(key)) \(rule)")
        case .tooLarge(let size):
            Explanation(text: "the sealed contents would be \(size) bytes; at most \(SealedBlob.maximumPayload) fit in a blob",
                        hints: ["shorten the note or the largest values"])
        case .outOfMemory: sodium(.outOfMemory)
        }
    }

    static func json(_ e: JSONError) -> String {
        switch e {
        case .syntax(let what, let offset): "not valid JSON: \(what) at byte \(offset)"
        case .rule(let key, let rule): key.isEmpty ? "not accepted JSON: \(rule)" : "\(Escape.quoted(key)) \(rule)"
        }
    }

    /// FORMAT.md §1 classes, for a recipient string.
    static func bech32(_ e: Bech32Error) -> Explanation {
        let check = "compare it with the integrator's manual; copy it again rather than typing it"
        return switch e {
        case .character: Explanation(text: "the recipient string holds a character that is not allowed", hints: [check])
        case .mixedCase: Explanation(text: "the recipient string mixes upper and lower case", hints: [check])
        case .checksum: Explanation(text: "the recipient string has a wrong checksum (mistyped or cut off)", hints: [check])
        case .prefix(let found):
            found.lowercased() == KeyText.secretKeyHRP
                ? Explanation(text: "this is a secret key, not a recipient string",
                              hints: ["a secret key never leaves the integrator; ask for their public key file"])
                : Explanation(text: "the string starts with \(Escape.quoted(found + "1")), not 'vault1'",
                              hints: ["a recipient string starts with vault1"])
        case .length: Explanation(text: "the recipient string does not hold a 32-byte key", hints: [check])
        }
    }

    /// A fingerprint a person typed (`--expect`).
    static func fingerprint(_ e: FingerprintError) -> Explanation {
        switch e {
        case .malformed:
            Explanation(text: "not a fingerprint (SHA256: and 64 hex digits)",
                        hints: ["copy it from the integrator's manual, or from `vault fingerprint`"])
        case .openSSHForm:
            Explanation(text: "this is an OpenSSH-style fingerprint (SHA256: and base64), a different kind of fingerprint",
                        hints: ["a vault fingerprint is SHA256: and 64 hex digits; take it from the integrator's manual or `vault fingerprint`"])
        }
    }

    /// FORMAT.md §1 public key files.
    static func publicKeyFile(_ e: PublicKeyFileError) -> Explanation {
        switch e {
        case .noRecipient: Explanation(text: "no recipient string in the public key file")
        case .severalRecipients: Explanation(text: "more than one recipient line in the public key file")
        case .notUTF8(let line):
            Explanation(text: "line \(line) of the public key file is not UTF-8 text",
                        hints: ["a public key file is plain text; get it again from the integrator (vault recipient writes it)"])
        case .recipient(let b): bech32(b)
        case .malformedFingerprintComment:
            Explanation(text: "the '# fingerprint:' comment is not a fingerprint")
        case .fingerprintMismatch(let stated, let actual):
            Explanation(text: "the file states fingerprint \(stated.canonical) but its key's is \(actual.canonical)",
                        hints: ["one was edited and not the other (every fingerprint comment must match the key); "
                                + "get the public key file again from the integrator and compare with their manual"])
        }
    }

    /// FORMAT.md §7 request texts.
    static func request(_ e: RequestError) -> Explanation {
        switch e {
        case .armor(let what): Explanation(text: "not a hand-off request: \(what)")
        case .line(let expected): Explanation(text: "the hand-off request lacks its '\(expected)' line where expected")
        case .recipient(let b): Explanation(text: "in the hand-off request: \(bech32(b).text)")
        case .fingerprint(let what): Explanation(text: "the hand-off request's fingerprint \(what)",
                                                 hints: ["the request was altered; ask the integrator for it again"])
        case .field(let name, let rule): Explanation(text: "the hand-off request's \(Escape.quoted(name)) \(rule)")
        }
    }

    static func sodium(_ e: SodiumError) -> Explanation {
        switch e {
        case .outOfMemory: Explanation(text: "out of secret memory", hints: ["the locked-memory limit may be too low (ulimit -l)"])
        case .invalidLength(let what, let expected, let actual): Explanation(text: "\(what) is \(actual) bytes, not \(expected)")
        case .sealOpenFailed, .authenticationFailed: Explanation(text: "decryption failed")
        case .scalarMultRefused: Explanation(text: "the key was refused by X25519")
        case .keyDerivationFailed: Explanation(text: "key derivation failed (not enough memory for Argon2id?)")
        case .unexpectedFailure(let call): Explanation(text: "libsodium's \(call) failed")
        }
    }

    static func secretKeyText(_ e: SecretKeyTextError) -> Explanation {
        switch e {
        case .bech32(let b): Explanation(text: "the secret key text is invalid (\(b.className))")
        case .outOfMemory: sodium(.outOfMemory)
        }
    }
}
