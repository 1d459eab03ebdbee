#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The warm sandbox's call slots, kept by the server: calls go straight to an idle slot's socket; the
/// zygote is asked only for a new slot. Every method here is called with the sandbox's lock held.
extension WarmSandbox {
    /// An idle slot: one whose "I" (its last call left nothing running) came in, else a new one. Closes
    /// the slots that died and the idle ones beyond `spareSlots`. Called with the lock held.
    func idleSlot() throws -> CallSlot {
        for slot in slots where slot.busy { slot.takeIdleReport() }
        for slot in slots where slot.dead { drop(slot) }
        var idle = slots.filter { !$0.busy }
        while idle.count > Self.spareSlots { drop(idle.removeLast()) }
        if let slot = idle.first { return slot }
        return try makeSlot()
    }

    /// Asks the zygote for a new call slot and takes the descriptor of its socket. Called with the lock held.
    func makeSlot() throws -> CallSlot {
        var header: [UInt8] = []
        for word in [Self.slotRequestMagic, 0, 0] { withUnsafeBytes(of: word.littleEndian) { header += $0 } }
        header += [UInt8](repeating: 0, count: Self.nonceBytes)
        let written = header.withUnsafeBytes { bytes in retryingEINTR { write(socket, bytes.baseAddress, bytes.count) } }
        var tag: CChar = 0
        var fd: Int32 = -1
        guard written == header.count, csandbox_receive_descriptor(socket, &tag, &fd) == 1 else {
            if fd >= 0 { close(fd) }
            stopped = true
            throw Gone()
        }
        guard tag == CChar(UInt8(ascii: "S")), fd >= 0 else {
            if fd >= 0 { close(fd) }
            var code: UInt8 = 0
            let reason = retryingEINTR { read(socket, &code, 1) } == 1 ? String(cString: strerror(Int32(code))) : "no reason given"
            throw LaunchError(description: "zygote: no call slot: \(reason)")
        }
        var sendTimeout = timeval(tv_sec: Self.sendTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        let slot = CallSlot(socket: fd)
        slots.append(slot)
        return slot
    }

    /// Closes `slot`'s socket (the slot exits, ending its namespaces) and forgets it. Lock held.
    func drop(_ slot: CallSlot) {
        close(slot.socket)
        slots.removeAll { $0 === slot }
    }
}
