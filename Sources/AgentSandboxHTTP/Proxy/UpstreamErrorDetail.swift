import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// The short, readable cause of an upstream failure that ends a proxy error sentence in parentheses
/// ("… then retry (connection refused, errno 111)"), instead of NIO's raw error descriptions.
enum UpstreamErrorDetail {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return "\(String(cString: strerror(error.errnoCode)).lowercased()), errno \(error.errnoCode)"
        case ChannelError.connectTimeout(let amount):
            return "no connection within \(amount.nanoseconds / 1_000_000_000) s"
        case ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, ChannelError.eof, ChannelError.outputClosed:
            return "the connection was closed"
        case let error as HTTPParserError:
            return "not a valid HTTP/1.1 response: \(error)"
        default:
            return String(describing: error)
        }
    }
}
