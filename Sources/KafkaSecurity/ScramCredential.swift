/// A user's SCRAM credential as a server stores it (RFC 5802 section 3): enough to check a
/// client's proof and to prove itself back, not enough to log in as the user.
public struct ScramCredential: Sendable, Equatable, Codable {
    public var mechanism: ScramMechanism
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int

    public init(mechanism: ScramMechanism, salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8], iterations: Int) {
        self.mechanism = mechanism
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.iterations = iterations
    }
}
