import KafkaProtocol

/// 17 SaslHandshake once a connection is past its login, or on a listener without SASL: the
/// login itself is `SaslSession`'s. Kafka answers ILLEGAL_SASL_STATE here too.
struct SaslHandshakeHandler: ApiHandler {
    func handle(_ request: SaslHandshakeRequest, context: RequestContext) async -> SaslHandshakeResponse {
        SaslHandshakeResponse(errorCode: ErrorCode.illegalSaslState.rawValue, mechanisms: [])
    }
}
