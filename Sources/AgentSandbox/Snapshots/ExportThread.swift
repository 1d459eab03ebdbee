#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SandboxKernel
import Synchronization

/// The producer side of a fork's copy: exports a workspace as plain tar into a pipe on
/// its own thread, closing the pipe's write end when done (the reader then sees the end of the archive).
final class ExportThread: Sendable {
    private let root: String
    private let fd: Int32
    private let done = DispatchSemaphore(value: 0)
    private let error = Mutex<ArchiveError?>(nil)

    init(root: String, fd: Int32) {
        self.root = root
        self.fd = fd
    }

    /// Why the export failed, once it ended (nil: it completed, or is still running).
    var failure: ArchiveError? { error.withLock { $0 } }

    func start() {
        let thread = Thread { [self] in
            do throws(ArchiveError) {
                let writer = try ArchiveWriter(format: .tar) { bytes in Self.write(bytes, to: self.fd) }
                try WorkspaceExporter(writer: writer).run(root: root)
            } catch {
                self.error.withLock { $0 = error }
            }
            close(fd)
            done.signal()
        }
        thread.name = "fork-export"
        thread.start()
    }

    /// Waits until the export thread has ended (again at once on later calls).
    func wait() {
        done.wait()
        done.signal()
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        writeFully(fd, bytes) == 0
    }
}
