#if canImport(Glibc)
import Glibc
#endif

/// One call slot of a warm sandbox (zygote_slot.c): the server's end of the socket to the slot's init,
/// which runs one call at a time. Guarded by its sandbox's lock.
final class CallSlot {
    let socket: Int32
    /// From the call sent to it until its "I": its namespace still holds that call's processes.
    var busy = false
    /// The slot hung up (it died) or wrote something that is not "I".
    private(set) var dead = false

    init(socket: Int32) {
        self.socket = socket
    }

    /// Takes the slot's "I" if it came in (never waits).
    func takeIdleReport() {
        var byte: UInt8 = 0
        let count = retryingEINTR { recv(socket, &byte, 1, Int32(MSG_DONTWAIT)) }
        if count == 1, byte == UInt8(ascii: "I") {
            busy = false
        } else if count >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
            dead = true
        }
    }
}
