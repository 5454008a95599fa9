import KafkaSecurity
import KafkaProtocol
import Logging
import NIOCore

/// Turns a request frame into its response frame: reads the header, checks the API and version,
/// decodes the body, runs the handler and encodes the answer with the right header version.
public struct RequestDispatcher: Sendable {
    public enum Outcome: Sendable {
        /// A whole response frame, size prefix included.
        case respond(ByteBuffer)
        /// A response frame in pieces, some of them file ranges to send without copying.
        case respondParts([ResponsePart])
        /// The client expects no answer (acks=0).
        case noResponse
        /// The request cannot be answered; Kafka closes the connection in these cases.
        case close(String)
    }

    struct Entry: Sendable {
        var versions: ClosedRange<Int16>
        var run: @Sendable (ByteBuffer, RequestContext) async throws(KafkaCodecError) -> Outcome
    }

    private var entries: [Int16: Entry] = [:]
    /// Every request's context carries it, so handlers can check ACLs.
    public var authorizer: Authorizer?

    public init() {}

    /// The APIs and versions this dispatcher answers: what ApiVersions advertises.
    public var supportedApis: [(key: ApiKey, versions: ClosedRange<Int16>)] {
        entries.keys.sorted().map { (ApiKey(rawValue: $0)!, entries[$0]!.versions) }
    }

    public mutating func register<H: ApiHandler>(_ handler: H) {
        let key = H.Request.apiKey.rawValue
        entries[key] = Entry(versions: H.Request.supportedVersions) { body, context throws(KafkaCodecError) in
            let request = try ArrayElementBudget.withLimit(ArrayElementBudget.requestDefault) { () throws(KafkaCodecError) in
                try H.Request.decodeLenient(from: body, version: context.apiVersion)
            }
            let response = await handler.handle(request, context: context)
            guard handler.expectsResponse(request) else { return .noResponse }
            return Self.frame(response, correlationId: context.correlationId, apiKey: key, version: context.apiVersion)
        }
    }

    /// Fetch answers with the records left in the segment files (see `ZeroCopyFetchFrame`).
    mutating func registerZeroCopy(_ handler: FetchHandler) {
        entries[ApiKey.fetch.rawValue] = Entry(versions: FetchRequest.supportedVersions) { body, context throws(KafkaCodecError) in
            let request = try ArrayElementBudget.withLimit(ArrayElementBudget.requestDefault) { () throws(KafkaCodecError) in
                try FetchRequest.decodeLenient(from: body, version: context.apiVersion)
            }
            let (response, slices) = await handler.fetch(request, context: context)
            return .respondParts(try ZeroCopyFetchFrame.parts(response, slices: slices, correlationId: context.correlationId, version: context.apiVersion))
        }
    }

    public func process(_ frame: ByteBuffer, clientHost: String = "", listenerName: String = "",
                        principal: String = RequestContext.anonymous) async -> Outcome {
        await process(frame, clientHost: clientHost, listenerName: listenerName, principal: principal, permits: nil)
    }

    /// `permits`: the slot the caller holds for this request, given up while the request waits.
    func process(_ frame: ByteBuffer, clientHost: String, listenerName: String, principal: String, permits: RequestPermits?) async -> Outcome {
        var buffer = frame
        guard let apiKey = buffer.getInteger(at: buffer.readerIndex, as: Int16.self),
              let apiVersion = buffer.getInteger(at: buffer.readerIndex + 2, as: Int16.self),
              let correlationId = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self) else {
            return .close("frame too short for a request header")
        }
        guard let entry = entries[apiKey] else {
            return .close("unknown API key \(apiKey)")
        }
        guard entry.versions.contains(apiVersion) else {
            if apiKey == ApiKey.apiVersions.rawValue {
                // KIP-511: answer in v0 with the error and our API list so the client can retry.
                var response = ApiVersionsResponse(errorCode: ErrorCode.unsupportedVersion.rawValue)
                response.apiKeys = supportedApis.map { .init(apiKey: $0.key.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound) }
                return Self.frame(response, correlationId: correlationId, apiKey: apiKey, version: 0)
            }
            return .close("unsupported version \(apiVersion) of \(ApiKey(rawValue: apiKey)?.name ?? "\(apiKey)")")
        }
        let header: RequestHeader
        do {
            header = try RequestHeader(from: &buffer)
        } catch {
            return .close("malformed request header: \(error)")
        }
        var context = RequestContext(apiVersion: apiVersion, correlationId: correlationId, clientId: header.clientId, clientHost: clientHost,
                                     listenerName: listenerName, principal: principal, authorizer: authorizer)
        context.permits = permits
        do {
            return try await entry.run(buffer, context)
        } catch {
            return .close("malformed \(ApiKey(rawValue: apiKey)!.name) v\(apiVersion) request: \(error)")
        }
    }

    static func frame(_ response: any KafkaResponse, correlationId: Int32, apiKey: Int16, version: Int16) -> Outcome {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))
        ResponseHeader(correlationId: correlationId).encode(into: &buffer, headerVersion: ResponseHeader.version(apiKey: apiKey, apiVersion: version))
        do {
            try response.encode(into: &buffer, version: version)
        } catch {
            return .close("cannot encode response: \(error)")
        }
        // Requests are bounded so that no response comes near this; if one ever did, the
        // connection closes rather than the broker trapping on the conversion.
        guard let size = Int32(exactly: buffer.readableBytes - 4) else {
            return .close("response of \(buffer.readableBytes) bytes exceeds the protocol's 2 GiB frame limit")
        }
        buffer.setInteger(size, at: 0)
        return .respond(buffer)
    }
}
