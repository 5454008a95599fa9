import NIOCore

/// Sits between TLS and the frame decoder: reads each frame's size prefix, reserves that many
/// bytes from the `RequestMemoryPool`, and holds back the channel's reads while a reservation
/// is refused. The connection's task gives each frame's bytes back once it has answered it.
final class RequestMemoryGate: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let account: RequestMemoryPool.Account
    private let maximumFrameSize: Int
    /// Bytes of the size prefix seen so far, while between frames.
    private var prefix: [UInt8] = []
    /// Bytes still to come of the current frame.
    private var remaining = 0
    /// A frame whose reservation was refused: reading waits for the pool.
    private var waitingFor: Int?
    private var readPending = false

    init(account: RequestMemoryPool.Account, maximumFrameSize: Int) {
        self.account = account
        self.maximumFrameSize = maximumFrameSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var view = unwrapInboundIn(data)
        while view.readableBytes > 0 {
            if remaining > 0 {
                let step = min(remaining, view.readableBytes)
                view.moveReaderIndex(forwardBy: step)
                remaining -= step
                continue
            }
            prefix.append(view.readInteger(as: UInt8.self)!)
            guard prefix.count == 4 else { continue }
            let size = Int(Int32(bigEndian: prefix.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
            prefix = []
            // A size the decoder will refuse is passed on for it to close the connection.
            guard size >= 0, size <= maximumFrameSize else { break }
            remaining = size
            reserve(size + 4, context: context)
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if waitingFor != nil {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        account.closed()
        context.fireChannelInactive()
    }

    private func reserve(_ bytes: Int, context: ChannelHandlerContext) {
        if let waiting = waitingFor {
            // Already waiting: the frames that follow in the same read wait with it.
            waitingFor = waiting + bytes
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let granted = account.pool.reserve(bytes) {
            loop.execute { bound.value.0.retry(context: bound.value.1) }
        }
        if granted {
            account.granted(bytes)
        } else {
            waitingFor = bytes
        }
    }

    private func retry(context: ChannelHandlerContext) {
        guard let bytes = waitingFor, context.channel.isActive else { return }
        waitingFor = nil
        reserve(bytes, context: context)
        if waitingFor == nil && readPending {
            readPending = false
            context.read()
        }
    }
}
