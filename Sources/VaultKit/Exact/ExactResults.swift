/// An access token `ExactConnector.accessToken` returns.
public struct ExactAccessToken {
    /// The token, for an `Authorization: Bearer` header.
    public let token: SecretBytes
    /// When it expires (RFC 3339 UTC; vault counts from when it sent the request, so it is
    /// never later than Exact's own expiry).
    public let expires: String
    /// The site's base URL (the REST API is under `{base}/api/v1/`).
    public let baseURL: String
    /// Whether this call refreshed it.
    public let refreshed: Bool
    /// When this call refreshed after an earlier refresh was interrupted (`inFlight`, `uncertain`)
    /// and Exact still accepted the stored refresh token: that phase. Else nil.
    public let recovered: TokenRefreshPhase?

    init(_ state: TokenState, endpoint: ExactEndpoint, refreshed: Bool, previous: TokenRefreshPhase?) {
        token = state.accessToken
        expires = state.accessTokenExpires
        baseURL = endpoint.base
        self.refreshed = refreshed
        recovered = previous
    }
}

/// `vault status`: an entry's connection, without any token.
public struct ExactConnectionStatus {
    /// Refresh tokens unused for 30 days are dead at Exact; vault warns from this age on.
    public static let warnAfterDays = 25

    /// Whether a token state is stored and Exact has not refused it.
    public let connected: Bool
    /// The refresh phase (`refused` means connect again).
    public let phase: TokenRefreshPhase
    /// When the stored access token expires.
    public let accessTokenExpires: String?
    /// When the access token was last obtained.
    public let refreshedAt: String?
    /// When the stored refresh token was issued.
    public let refreshTokenIssuedAt: String?
    /// Its age in whole days, if known.
    public let refreshTokenAgeDays: Int?
    /// When a lease held right now expires (a refresh or connect in progress), else nil.
    public let leaseHeldUntil: String?
    /// When an authorisation was begun and not finished, else nil.
    public let pendingSince: String?
    /// The site's base URL.
    public let baseURL: String

    init(_ s: TokenStatus, pending: ExactAuthorization?, endpoint: ExactEndpoint) {
        phase = s.phase
        if case .refused = s.phase { connected = false } else { connected = s.state != nil }
        accessTokenExpires = s.state?.accessTokenExpires
        refreshedAt = s.state?.refreshedAt
        refreshTokenIssuedAt = s.state?.refreshTokenIssuedAt
        refreshTokenAgeDays = refreshTokenIssuedAt.flatMap { UTCTime(exact: $0) }.map { Int((Int64(FileIO.now()) - $0.seconds) / 86400) }
        leaseHeldUntil = s.leaseHeldUntil.map { Timestamp.string(fromEpochSeconds: Int($0)) }
        pendingSince = pending?.started
        baseURL = endpoint.base
    }

    /// Whether the refresh token is old enough to warn about (Exact refuses it at 30 days unused).
    public var refreshTokenAging: Bool { (refreshTokenAgeDays ?? 0) >= Self.warnAfterDays }
}
