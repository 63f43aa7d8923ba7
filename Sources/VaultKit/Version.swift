/// The version of vault and VaultKit.
public let vaultVersion = "0.2.0"
