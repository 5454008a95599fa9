#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds since the epoch: the clock of record timestamps, LogAppendTime and retention.
public enum WallClock {
    public static func nowMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
