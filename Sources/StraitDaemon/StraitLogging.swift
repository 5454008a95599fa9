import Logging

/// One logging set-up for every long-running command: one line per event on standard error, at
/// the configured level, and warnings and errors also kept for the status API.
enum StraitLogging {
    static func bootstrap(level: Logger.Level = .info, events: RecentEvents? = nil) {
        LoggingSystem.bootstrap { label in
            var stream = StreamLogHandler.standardError(label: label)
            stream.logLevel = level
            guard let events else { return stream }
            return MultiplexLogHandler([stream, events.handler(label: label)])
        }
    }
}
