import NIOConcurrencyHelpers
import NIOCore

/// Fixed-size buffers handed out and taken back, so walking compressed batches one after
/// another reuses the same few windows instead of allocating one per batch.
final class BufferPool: Sendable {
    let bufferSize: Int
    private let keep: Int
    private let free = NIOLockedValueBox<[ByteBuffer]>([])

    init(bufferSize: Int, keep: Int) {
        self.bufferSize = bufferSize
        self.keep = keep
    }

    func take() -> ByteBuffer {
        if let buffer = free.withLockedValue({ $0.popLast() }) { return buffer }
        return ByteBufferAllocator().buffer(capacity: bufferSize)
    }

    /// Takes the buffer back unless the pool is full. A buffer whose bytes are still shared with
    /// slices held elsewhere gets fresh storage on `clear()`, so those slices stay intact.
    func give(_ buffer: ByteBuffer) {
        var buffer = buffer
        buffer.clear()
        guard buffer.capacity == bufferSize else { return }
        free.withLockedValue { if $0.count < keep { $0.append(buffer) } }
    }
}
