import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// The last warnings and errors any part of the daemon logged, for `/status` and the status
/// page: an operator looking at a dashboard should not need the log to see what went wrong.
public final class RecentEvents: Sendable {
    public struct Event: Sendable, Equatable, Encodable {
        public var timeMs: Int64
        public var level: String
        public var source: String
        public var message: String
    }

    static let capacity = 50
    private let events = NIOLockedValueBox<[Event]>([])

    public init() {}

    public var all: [Event] { events.withLockedValue { $0 } }

    func append(_ event: Event) {
        events.withLockedValue { events in
            events.append(event)
            if events.count > Self.capacity { events.removeFirst(events.count - Self.capacity) }
        }
    }

    /// A log handler that keeps warnings and above here.
    func handler(label: String) -> some LogHandler {
        Handler(label: label, events: self)
    }

    private struct Handler: LogHandler {
        let label: String
        let events: RecentEvents
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            events.append(Event(timeMs: WallClock.nowMs(), level: event.level.rawValue, source: label, message: event.message.description))
        }
    }
}
