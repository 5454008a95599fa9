import KafkaProtocol

/// 36 SaslAuthenticate outside a login (see `SaslHandshakeHandler`): re-authentication is not
/// offered, so the state is illegal.
struct SaslAuthenticateHandler: ApiHandler {
    func handle(_ request: SaslAuthenticateRequest, context: RequestContext) async -> SaslAuthenticateResponse {
        SaslAuthenticateResponse(errorCode: ErrorCode.illegalSaslState.rawValue,
                                 errorMessage: "SaslAuthenticate is only valid during a SASL login on a SASL listener")
    }
}
