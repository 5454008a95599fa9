import Logging

/// One logging set-up for every long-running command: info and above, on standard error.
enum StraitLogging {
    static func bootstrap() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
    }
}
