/// The receiving system's side of Exact Online, with vault as the broker: connect an entry
/// once, then ask for a valid access token whenever one is needed. The client secret and the
/// refresh token never leave the keystore and this object; refreshes are made under the
/// entry's token lease, only when needed, and the new refresh token is stored (fsynced) before
/// the access token is returned (docs/KEYSTORE.md §5, docs/INTEGRATOR.md).
///
/// Not `Sendable`: it uses a `Keystore`, which belongs to one task.
public final class ExactConnector {
    /// The keystore holding the entries and their token states.
    public let keystore: Keystore
    /// What performs the HTTP POSTs.
    public let transport: any ExactTransport
    /// A test override of every entry's site (`ExactEndpoint(override:)`), else nil.
    public let endpointOverride: ExactEndpoint?
    /// Seconds to wait for Exact's answer to one request.
    public let timeout: Double

    /// The token lease outlives any request (twice the timeout, plus slack), so a live holder
    /// never loses it mid-request and nobody else refreshes meanwhile (docs/KEYSTORE.md §5).
    public var leaseDuration: Double { timeout * 2 + 5 }
    /// How long to wait for another holder: its whole lease, then one request of our own.
    public var waitAtMost: Double { leaseDuration + timeout + 10 }

    /// A connector.
    public init(keystore: Keystore, transport: any ExactTransport, endpointOverride: ExactEndpoint? = nil, timeout: Double = 30) {
        self.keystore = keystore
        self.transport = transport
        self.endpointOverride = endpointOverride
        self.timeout = timeout
    }

    /// What an entry holds for Exact.
    struct App {
        let clientID: String
        let clientSecret: SecretBytes
        let redirectURI: String?
        let endpoint: ExactEndpoint
        let entry: KeystoreEntry
    }

    func app(_ label: String) async throws -> App {
        // The client secret and webhook secret are used here and never handed out: what is
        // handed out, an access token, is logged (`token-read`).
        let entry = try await keystore.entryForBroker(label)
        guard entry.type == CredentialType.exactOnline.rawValue else { throw ExactError.notExactOnline(label: entry.label) }
        func text(_ name: String) -> String? { entry.field(name).map { v in v.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } } }
        guard let clientID = text("client_id") else { throw ExactError.missingField(label: entry.label, field: "client_id") }
        guard let secret = entry.field("client_secret") else { throw ExactError.missingField(label: entry.label, field: "client_secret") }
        let region = text("region").flatMap(Region.init(rawValue:)) ?? .nl
        return App(clientID: clientID, clientSecret: secret, redirectURI: text("redirect_uri"),
                   endpoint: endpointOverride ?? ExactEndpoint(region: region), entry: entry)
    }

    /// The site the entry's tokens come from (its region's, or the override).
    /// - Throws: `KeystoreError`, `ExactError.notExactOnline`, `.missingField`.
    public func endpoint(_ label: String) async throws -> ExactEndpoint { try await app(label).endpoint }

    // MARK: Connecting

    /// Begins connecting the entry: a new random `state` is recorded (sealed, superseding any
    /// earlier attempt) and the authorisation URL returned.
    /// - Parameter redirectURI: the app's registered redirect URI when the entry has none (or another).
    /// - Throws: `KeystoreError`, `ExactError.notExactOnline`, `.missingField` (no redirect URI).
    public func beginAuthorization(_ label: String, redirectURI: String? = nil) async throws -> ExactAuthorization {
        let app = try await app(label)
        guard let redirect = redirectURI ?? app.redirectURI else { throw ExactError.missingField(label: app.entry.label, field: "redirect_uri") }
        // 128 random bits: unguessable, so a redirect carrying it answers this very request.
        let state = Hex.encode(Random.bytes(16))
        let auth = ExactAuthorization(url: app.endpoint.authorizationURL(clientID: app.clientID, redirectURI: redirect, state: state),
                                      state: state, redirectURI: redirect, started: Timestamp.now())
        try await keystore.setSetting(ExactAuthorization.settingName(label), to: auth.settingValue,
                                      audit: .connectBegun(label: app.entry.label))
        return auth
    }

    /// The authorisation begun for the entry and not yet finished, if any.
    /// - Throws: `KeystoreError`, `ExactError.notExactOnline`, `.missingField`.
    public func pendingAuthorization(_ label: String) async throws -> ExactAuthorization? {
        let app = try await app(label)
        guard let value = try await keystore.setting(ExactAuthorization.settingName(label)) else { return nil }
        return ExactAuthorization(settingValue: value, endpoint: app.endpoint, clientID: app.clientID)
    }

    /// Finishes connecting: checks the redirect's `state` against the recorded one (a bare code
    /// carries none; `stateChecked` is then false), exchanges the code for tokens under the
    /// entry's lease and stores them. Any earlier token state, refused or not, is replaced.
    /// - Throws: `ExactError.noPendingAuthorization`, `.authorizationExpired`, `.stateMismatch`,
    ///   the token request's errors (`.rejected` for a used or expired code), `KeystoreError`.
    public func completeAuthorization(_ label: String, response: ExactAuthorizationResponse) async throws -> (state: TokenState, stateChecked: Bool) {
        let app = try await app(label)
        guard let pending = try await pendingAuthorization(label) else { throw ExactError.noPendingAuthorization(label: app.entry.label) }
        let age = Int64(FileIO.now()) - (UTCTime(exact: pending.started)?.seconds ?? 0)
        guard age <= ExactAuthorization.lifetime else { throw ExactError.authorizationExpired(label: app.entry.label, started: pending.started) }
        if let state = response.state {
            guard let given = try? SecretBytes(Array(state.utf8)), given.constantTimeEquals(Array(pending.state.utf8)) else {
                throw ExactError.stateMismatch(label: app.entry.label)
            }
        }
        let form = try FormEncoding.body([("grant_type", .text("authorization_code")), ("code", .secret(response.code)),
                                          ("redirect_uri", .text(pending.redirectURI)), ("client_id", .text(app.clientID)),
                                          ("client_secret", .secret(app.clientSecret))])
        var stored: TokenState?
        _ = try await keystore.withTokenLease(label, leaseDuration: leaseDuration, waitAtMost: waitAtMost) { _ in
            let sent = FileIO.now()
            let answer = try await self.post(form, app)
            guard answer.status == 200 else { throw self.failure(answer, app, withholding: [response.code]) }
            let tokens = try ExactTokenAnswer.parse(answer.body)
            guard let refresh = tokens.refreshToken else { throw ExactError.malformedAnswer(detail: "no refresh_token") }
            let now = Timestamp.now()
            stored = TokenState(refreshToken: refresh, accessToken: tokens.accessToken,
                                accessTokenExpires: Timestamp.string(fromEpochSeconds: Int(sent) + tokens.expiresIn),
                                refreshedAt: now, refreshTokenIssuedAt: now)
            return stored
        }
        // The code is used: the recorded state can never be used again.
        try await keystore.setSetting(ExactAuthorization.settingName(label), to: "", audit: .connectFinished(label: app.entry.label))
        return (stored!, response.state != nil)
    }

    // MARK: Access tokens

    /// An access token valid for at least `minValid` seconds, refreshed under the entry's lease
    /// only when the stored one is not: the new state (with Exact's new refresh token) is stored
    /// durably before this returns. Callers waiting for another holder's refresh use its result.
    /// - Throws: `ExactError.notConnected`, `.refusedEarlier`, `.refreshTokenRefused` (connect
    ///   again), `.tokenTooShortLived`, the request's errors, `KeystoreError` (`.leaseTimeout`).
    public func accessToken(_ label: String, minValid: Int = 60) async throws -> ExactAccessToken {
        let app = try await app(label)
        // Fast path, without the lease: most calls find a valid token, handed out with its
        // audit record in one transaction.
        let status = try await keystore.tokenStatus(label) { status in
            if case .refused = status.phase { return false }
            return status.state.map { Self.remaining($0) >= minValid } ?? false
        }
        if case .refused(let at) = status.phase { throw ExactError.refusedEarlier(label: app.entry.label, at: at) }
        guard let found = status.state else { throw ExactError.notConnected(label: app.entry.label) }
        if Self.remaining(found) >= minValid { return ExactAccessToken(found, endpoint: app.endpoint, refreshed: false, previous: nil) }

        var refusedAt: Double?
        let result = try await keystore.refreshTokenState(label, leaseDuration: leaseDuration, waitAtMost: waitAtMost,
                                                          needsRefresh: { state, phase in
            if case .refused(let at) = phase { refusedAt = at; return false }
            guard let state else { return false }
            return Self.remaining(state) < minValid
        }, refresh: { current, previous in
            try await self.refresh(current!, previous: previous, app: app)
        })
        switch result {
        case .current(let state):
            if let refusedAt { throw ExactError.refusedEarlier(label: app.entry.label, at: refusedAt) }
            guard let state else { throw ExactError.notConnected(label: app.entry.label) }
            try await keystore.recordTokenRead(label, refreshed: false)
            return ExactAccessToken(state, endpoint: app.endpoint, refreshed: false, previous: nil)
        case .refreshed(let state, let previous):
            let lifetime = Self.remaining(state)
            guard lifetime >= minValid else { throw ExactError.tokenTooShortLived(seconds: lifetime, asked: minValid) }
            try await keystore.recordTokenRead(label, refreshed: true)
            return ExactAccessToken(state, endpoint: app.endpoint, refreshed: true, previous: previous == .clean ? nil : previous)
        }
    }

    /// One refresh: the request, then the outcome that decides what the lease records.
    private func refresh(_ current: TokenState, previous: TokenRefreshPhase, app: App) async throws -> TokenRefreshOutcome {
        let form = try FormEncoding.body([("grant_type", .text("refresh_token")), ("refresh_token", .secret(current.refreshToken)),
                                          ("client_id", .text(app.clientID)), ("client_secret", .secret(app.clientSecret))])
        let sent = FileIO.now()
        let answer: ExactHTTPAnswer
        do {
            answer = try await post(form, app)
        } catch let ExactError.transport(t) {
            if case .noAnswer = t { return .uncertain(ExactError.transport(t)) }
            return .unchanged(ExactError.transport(t))
        }
        switch answer.status {
        case 200:
            let tokens: ExactTokenAnswer
            do { tokens = try ExactTokenAnswer.parse(answer.body) } catch { return .uncertain(error) }
            let now = Timestamp.now()
            // A server that does not rotate keeps the old refresh token, with its age.
            return .stored(TokenState(refreshToken: tokens.refreshToken ?? current.refreshToken, accessToken: tokens.accessToken,
                                      accessTokenExpires: Timestamp.string(fromEpochSeconds: Int(sent) + tokens.expiresIn),
                                      refreshedAt: now,
                                      refreshTokenIssuedAt: tokens.refreshToken == nil ? current.refreshTokenIssuedAt : now))
        case 400, 401:
            let e = ExactErrorAnswer.parse(answer.body, withholding: [current.refreshToken, app.clientSecret])
            // A wrong client secret is not the refresh token's fault: it stays usable.
            if e.error == "invalid_client" { return .unchanged(ExactError.rejected(status: answer.status, error: e.error, description: e.description)) }
            return .refused(ExactError.refreshTokenRefused(label: app.entry.label, previous: previous, error: e.error, description: e.description))
        case 429:
            return .unchanged(ExactError.rateLimited)
        case 500...599:
            return .uncertain(ExactError.serverError(status: answer.status))
        case 402...499:
            return .unchanged(failure(answer, app, withholding: [current.refreshToken]))
        default:
            return .uncertain(ExactError.malformedAnswer(detail: "HTTP status \(answer.status)"))
        }
    }

    private func post(_ form: SecretBytes, _ app: App) async throws -> ExactHTTPAnswer {
        do {
            return try await transport.post(ExactHTTPRequest(url: app.endpoint.tokenURL, body: form, timeout: timeout))
        } catch { throw ExactError.transport(error) }
    }

    private func failure(_ answer: ExactHTTPAnswer, _ app: App, withholding: [SecretBytes]) -> ExactError {
        switch answer.status {
        case 429: return .rateLimited
        case 500...599: return .serverError(status: answer.status)
        default:
            let e = ExactErrorAnswer.parse(answer.body, withholding: withholding + [app.clientSecret])
            return .rejected(status: answer.status, error: e.error, description: e.description)
        }
    }

    /// Seconds the state's access token is still valid (negative once expired).
    static func remaining(_ state: TokenState) -> Int {
        Int((UTCTime(exact: state.accessTokenExpires)?.seconds ?? 0) - Int64(FileIO.now().rounded(.down)))
    }

    // MARK: Status and webhooks

    /// What is known of the entry's connection, without printing or using any token.
    /// - Throws: `KeystoreError`, `ExactError.notExactOnline`, `.missingField`.
    public func status(_ label: String) async throws -> ExactConnectionStatus {
        let app = try await app(label)
        return ExactConnectionStatus(try await keystore.tokenStatus(label), pending: try await pendingAuthorization(label), endpoint: app.endpoint)
    }

    /// Whether the webhook `body` carries a HashCode that is the HMAC-SHA256 of its `Content`
    /// text, exactly as sent, under the entry's webhook secret (constant-time comparison).
    /// - Returns: the range of the `Content` text when it matches, else nil.
    /// - Throws: `ExactError.webhook` for a body that is not the webhook shape,
    ///   `.missingField` (no webhook secret), `.notExactOnline`, `KeystoreError`.
    public func verifyWebhook(_ label: String, body: [UInt8]) async throws -> Range<Int>? {
        let shape: ExactWebhookBody
        do { shape = try body.withUnsafeBytes { try ExactWebhookBody.parse($0) } } catch let e as ExactWebhookError {
            throw ExactError.webhook(e)
        }
        let entry = try await app(label).entry
        guard let secret = entry.field("webhook_secret") else { throw ExactError.missingField(label: entry.label, field: "webhook_secret") }
        let matched = try body.withUnsafeBytes { b in
            try HMACSHA256.verify(shape.hashCode, message: UnsafeRawBufferPointer(rebasing: b[shape.content]), key: secret)
        }
        return matched ? shape.content : nil
    }
}
