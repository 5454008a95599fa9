import ArgumentParser
import Foundation
import StraitDaemon

/// `strait check`: validates a configuration file offline (no connection, no directory, no
/// port), printing the first problem as `FILE:LINE: KEY: problem`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a configuration file without running anything."
    )

    @OptionGroup var file: ConfigFileOptions

    func run() throws {
        let plan: DaemonPlan
        do {
            plan = try file.plan()
        } catch let error as ValidationError {
            throw error
        } catch {
            // The problem alone, as `FILE:LINE: KEY: problem`, for editors and scripts to read.
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        print("\(file.path): OK: \(count(plan.sites.count, "embedded site")), "
            + "\(count(plan.mirror.clusters.count - plan.sites.count, "external site")), \(count(plan.mirror.flows.count, "flow"))")
    }
}
