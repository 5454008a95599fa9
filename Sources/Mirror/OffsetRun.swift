/// A stretch of the source-to-target offset mapping without a discontinuity: source offsets
/// `sourceOffset ..< sourceOffset + span` were copied, in order and without gaps, to target
/// offsets `targetOffset ..< targetOffset + span`. A forwarded batch is one run; compaction
/// gaps, aborted data, control records, rewrites and restarts start new ones.
public struct OffsetRun: Equatable, Sendable {
    public var sourceOffset: Int64
    public var targetOffset: Int64
    public var span: Int64

    public init(sourceOffset: Int64, targetOffset: Int64, span: Int64) {
        self.sourceOffset = sourceOffset
        self.targetOffset = targetOffset
        self.span = span
    }

    /// The first source offset after the run.
    public var sourceEnd: Int64 { sourceOffset + span }

    /// The first target offset after the run.
    public var targetEnd: Int64 { targetOffset + span }

    /// What is left of the run outside source offsets `lower ..< upper`: up to two runs.
    func removing(_ lower: Int64, _ upper: Int64) -> [OffsetRun] {
        var left: [OffsetRun] = []
        if lower > sourceOffset {
            left.append(OffsetRun(sourceOffset: sourceOffset, targetOffset: targetOffset, span: min(span, lower - sourceOffset)))
        }
        if upper < sourceEnd {
            let start = max(upper, sourceOffset)
            left.append(OffsetRun(sourceOffset: start, targetOffset: targetOffset + (start - sourceOffset), span: sourceEnd - start))
        }
        return left
    }

    /// Whether `next` carries on where this run stops, on both sides.
    func isContinued(by next: OffsetRun) -> Bool {
        next.sourceOffset == sourceEnd && next.targetOffset == targetEnd
    }
}
