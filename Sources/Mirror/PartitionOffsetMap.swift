/// The source-to-target offset mapping of one source partition, as runs in source order, each
/// source offset at most once: where its last copy is. After a crash the mirror copies some
/// records again; a target log only grows, so the later copy is the one at the higher target
/// offset, and that decides, whatever order runs are learnt in (delivery callbacks, and the map
/// topic read back after compaction, come in no guaranteed order).
public struct PartitionOffsetMap: Equatable, Sendable {
    public private(set) var runs: [OffsetRun] = []
    /// Whether target offsets grow with source offsets across the runs, as they do unless a
    /// restart's copies overlap older ones; searches are binary then, linear otherwise.
    private var isMonotonic = true
    /// Where the next copy lands: after the highest copy (not the last run's, when a restart's
    /// copies overlap older ones). Asked for by every caught-up group at every checkpoint.
    private var highestTargetEnd: Int64 = 0

    public init(runs: [OffsetRun] = []) {
        for run in runs { apply(run) }
    }

    /// Adds what a run says: on the source offsets it shares with runs already here, the copy at
    /// the higher target offset stays.
    public mutating func apply(_ run: OffsetRun) {
        guard run.span > 0 else { return }
        highestTargetEnd = max(highestTargetEnd, run.targetEnd)
        // Fast path: records copied after everything here.
        if let last = runs.last, last.sourceEnd <= run.sourceOffset {
            if last.isContinued(by: run) {
                runs[runs.count - 1].span += run.span
            } else {
                if run.targetOffset < last.targetEnd { isMonotonic = false }
                runs.append(run)
            }
            return
        }
        let first = firstIndex { $0.sourceEnd > run.sourceOffset }
        var end = first
        while end < runs.count && runs[end].sourceOffset < run.sourceEnd { end += 1 }
        var merged: [OffsetRun] = []
        var incoming = [run]
        for existing in runs[first..<end] {
            // Within an overlap both are linear with slope 1: one of them is later throughout.
            if existing.targetOffset - existing.sourceOffset >= run.targetOffset - run.sourceOffset {
                incoming = incoming.flatMap { $0.removing(existing.sourceOffset, existing.sourceEnd) }
                merged.append(existing)
            } else {
                merged += existing.removing(run.sourceOffset, run.sourceEnd)
            }
        }
        merged += incoming
        merged.sort { $0.sourceOffset < $1.sourceOffset }
        var coalesced: [OffsetRun] = []
        for piece in merged {
            if let last = coalesced.last, last.isContinued(by: piece) { coalesced[coalesced.count - 1].span += piece.span } else { coalesced.append(piece) }
        }
        runs.replaceSubrange(first..<end, with: coalesced)
        isMonotonic = zip(runs, runs.dropFirst()).allSatisfy { $0.targetEnd <= $1.targetOffset }
    }

    /// Where a consumer that committed source offset `committed` resumes on the target: the
    /// lowest target offset holding the last copy of a record at or above `committed`, so that
    /// every such record is read (a later copy of an earlier record may be read again, none is
    /// skipped). When nothing at or above it was copied yet, the end of the copies: where the
    /// next one lands. Nil while nothing was copied.
    public func translate(_ committed: Int64) -> Int64? {
        guard !runs.isEmpty else { return nil }
        let first = firstIndex { $0.sourceEnd > committed }
        guard first < runs.count else { return highestTargetEnd }
        let candidates = isMonotonic ? runs[first...first] : runs[first...]
        return candidates.map { $0.targetOffset + max(0, committed - $0.sourceOffset) }.min()
    }

    /// Where a consumer that read the target below `position` resumes on the source: the lowest
    /// source offset whose last copy is at or above `position` (everything below it was read on
    /// the target, or never copied at all: gaps); past every copy, the end of the copied source
    /// offsets. Failing back uses it.
    public func reverseTranslate(_ position: Int64) -> Int64? {
        guard let last = runs.last else { return nil }
        if isMonotonic {
            let index = firstIndex { $0.targetEnd > position }
            guard index < runs.count else { return last.sourceEnd }
            return runs[index].sourceOffset + max(0, position - runs[index].targetOffset)
        }
        return runs.filter { $0.targetEnd > position }.map { $0.sourceOffset + max(0, position - $0.targetOffset) }.min() ?? last.sourceEnd
    }

    /// Drops the runs wholly below the source's log start: no committed offset can point there
    /// any more (the source answers such a fetch with OFFSET_OUT_OF_RANGE). Returns them.
    mutating func prune(below logStart: Int64) -> [OffsetRun] {
        let gone = runs.prefix { $0.sourceEnd <= logStart }
        runs.removeFirst(gone.count)
        return Array(gone)
    }

    /// The run whose copies include target offset `position`, if any.
    func run(holdingTarget position: Int64) -> OffsetRun? {
        if isMonotonic {
            let index = firstIndex { $0.targetEnd > position }
            return index < runs.count && runs[index].targetOffset <= position ? runs[index] : nil
        }
        return runs.first { $0.targetOffset <= position && position < $0.targetEnd }
    }

    /// The run holding source offset `offset`, if it was copied.
    func run(holdingSource offset: Int64) -> OffsetRun? {
        let index = firstIndex { $0.sourceEnd > offset }
        return index < runs.count && runs[index].sourceOffset <= offset ? runs[index] : nil
    }

    /// The runs holding any of `run`'s source offsets.
    func runs(overlapping run: OffsetRun) -> [OffsetRun] {
        var index = firstIndex { $0.sourceEnd > run.sourceOffset }
        var found: [OffsetRun] = []
        while index < runs.count && runs[index].sourceOffset < run.sourceEnd {
            found.append(runs[index])
            index += 1
        }
        return found
    }

    /// The first source offset after the last copied record.
    public var copiedEnd: Int64? { runs.last?.sourceEnd }

    /// The first run for which `isAfter` holds, in a list where it holds from some run on.
    private func firstIndex(where isAfter: (OffsetRun) -> Bool) -> Int {
        var low = 0
        var high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(runs[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
