import Logging

/// One logging set-up for every long-running command: one line per event on standard error, at
/// the configured level.
enum StraitLogging {
    static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
