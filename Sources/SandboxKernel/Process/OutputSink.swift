/// Takes a child's stdout as it arrives, in place of the launcher keeping it: a tool that reads a
/// program's machine output (`rg --json`) parses it while the program still runs, keeps only what
/// it needs, and bounds its own memory. `ProcessResult.stdout` then stays empty.
///
/// `consume` is called on the launcher's output thread, one call at a time, with the bytes in order;
/// the buffer is valid only during the call.
public protocol OutputSink: AnyObject, Sendable {
    func consume(_ bytes: UnsafeRawBufferPointer)
}
