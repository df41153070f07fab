import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// HTTP/1 with a deadline for request headers. Hummingbird's idle timeout closes a connection with no
/// progress (no request part read, no response written) for a while, which covers stalled bodies and
/// idle keep-alive connections; it does not cover headers sent a byte at a time, since a request part
/// only exists once its headers are complete. This channel adds that: a new connection, and every
/// request after the first byte of its headers, must deliver the complete headers within
/// `headerTimeout`, or the connection is closed.
struct HeaderTimeoutHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel

    /// `configuration`'s additional handlers come after the HTTP decoder; a `RequestHeadWatcher` is put
    /// among them, and its partner goes in front of the decoder here.
    init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1Channel.Configuration, headerTimeout: TimeAmount) {
        var configuration = configuration
        let others = configuration.additionalChannelHandlers
        configuration.additionalChannelHandlers = { [RequestHeadWatcher(deadline: HeaderDeadline(timeout: headerTimeout))] + others() }
        inner = HTTP1Channel(responder: responder, configuration: configuration)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let watcher = try channel.pipeline.syncOperations.handler(type: RequestHeadWatcher.self)
            try channel.pipeline.syncOperations.addHandler(RawBytesWatcher(deadline: watcher.deadline), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Shared by the two watchers of one connection; used on its event loop only (the timer reaches it
/// through `NIOLoopBound`, which checks that).
final class HeaderDeadline {
    let timeout: TimeAmount
    var waitingForHead = true
    var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let channel = context.channel
        let deadline = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            guard deadline.value.waitingForHead else { return }
            channel.close(promise: nil)
        }
    }

    func headArrived() {
        waitingForHead = false
        timer?.cancel()
        timer = nil
    }

    func requestEnded() { waitingForHead = true }
}

/// Before the HTTP decoder: starts the deadline when a connection opens and when the first bytes of
/// a new request arrive.
final class RawBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let deadline: HeaderDeadline

    init(deadline: HeaderDeadline) { self.deadline = deadline }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { deadline.start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        deadline.start(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline.waitingForHead { deadline.start(context) }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.headArrived()
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: a request head stops the deadline; the end of a request re-arms it for
/// the next one (started by its first byte).
final class RequestHeadWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    let deadline: HeaderDeadline

    init(deadline: HeaderDeadline) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadline.headArrived()
        case .end: deadline.requestEnded()
        case .body: break
        }
        context.fireChannelRead(data)
    }
}
