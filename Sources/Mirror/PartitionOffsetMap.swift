/// The source-to-target offset mapping of one source partition, as runs in source order.
/// Later copies win: after a crash the mirror copies some records again, and a consumer that
/// fails over must resume at the last copy, or it would read the records in between twice.
public struct PartitionOffsetMap: Equatable, Sendable {
    public private(set) var runs: [OffsetRun] = []

    public init(runs: [OffsetRun] = []) {
        for run in runs { apply(run) }
    }

    /// Adds a run written after every run already here: it replaces what it overlaps, and
    /// every run that starts at or after it (those offsets were copied again, later).
    public mutating func apply(_ run: OffsetRun) {
        guard run.span > 0 else { return }
        while let last = runs.last, last.sourceOffset >= run.sourceOffset { runs.removeLast() }
        if let last = runs.last, last.sourceEnd > run.sourceOffset {
            runs[runs.count - 1].span = run.sourceOffset - last.sourceOffset
        }
        runs.append(run)
    }

    /// Records copied after everything here: extends the last run when they carry on from it.
    public mutating func append(_ run: OffsetRun) -> OffsetRun {
        if let last = runs.last, last.isContinued(by: run) {
            runs[runs.count - 1].span += run.span
            return runs[runs.count - 1]
        }
        apply(run)
        return run
    }

    /// Drops the runs wholly below the source's log start: no committed offset can point there
    /// any more (the source answers such a fetch with OFFSET_OUT_OF_RANGE). Returns them.
    mutating func prune(below logStart: Int64) -> [OffsetRun] {
        let gone = runs.prefix { $0.sourceEnd <= logStart }
        runs.removeFirst(gone.count)
        return Array(gone)
    }

    /// Forgets the run that started at `sourceOffset` (its record was deleted from the map topic).
    mutating func remove(startingAt sourceOffset: Int64) {
        runs.removeAll { $0.sourceOffset == sourceOffset }
    }

    /// Where a consumer that committed source offset `committed` resumes on the target: the
    /// target offset of the first record copied from a source offset at or above it, or the end
    /// of the last run when nothing at or above it was copied yet (what is copied later lands
    /// there or after). Nil while nothing was copied.
    public func translate(_ committed: Int64) -> Int64? {
        guard let last = runs.last else { return nil }
        // The first run that ends above the committed offset.
        var low = 0
        var high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle].sourceEnd > committed { high = middle } else { low = middle + 1 }
        }
        guard low < runs.count else { return last.targetEnd }
        let run = runs[low]
        return run.targetOffset + max(0, committed - run.sourceOffset)
    }

    /// Where a consumer that read the copies below target offset `position` resumes on the
    /// source: the source offset of the copy at `position`, or, where no copy is (a duplicate's
    /// earlier copy, someone else's record), the start of the next run; past the last run, its
    /// end. Failing back uses it: everything below the answer was copied below `position`, or
    /// never copied at all (gaps). Target offsets grow with source offsets across runs, because
    /// a run always supersedes every later one.
    public func reverseTranslate(_ position: Int64) -> Int64? {
        guard let last = runs.last else { return nil }
        var low = 0
        var high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle].targetEnd > position { high = middle } else { low = middle + 1 }
        }
        guard low < runs.count else { return last.sourceEnd }
        let run = runs[low]
        return run.sourceOffset + max(0, position - run.targetOffset)
    }

    /// The first source offset after the last copied record.
    public var copiedEnd: Int64? { runs.last?.sourceEnd }
}
