#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import NIOCore
import SandboxKernel

/// The bytes an import reads, as libarchive wants them.
///
/// Streamed straight from the `ImportFeed` (tar and its compressed forms, cpio) — except zip: its
/// modes and symlinks are recorded only in the central directory at the end of the file, which a
/// streaming reader never sees. A zip upload (recognised by its first bytes) is therefore spooled
/// into an unnamed root-only temporary file (`O_TMPFILE` in the staging area: it vanishes with its
/// descriptor, even after a crash) and read seekably. The upload limit bounds that file.
final class ImportInput {
    private let feed: ImportFeed
    private var pending: [ByteBuffer] = []
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private var spoolFD: Int32 = -1

    init(feed: ImportFeed) { self.feed = feed }

    deinit {
        storage.deallocate()
        if spoolFD >= 0 { close(spoolFD) }
    }

    /// A reader over the input; `spoolDirectory` receives the temporary file of a zip upload.
    func makeReader(spoolDirectory: String) throws(ArchiveError) -> ArchiveReader {
        guard isZip() else { return try ArchiveReader { [unowned self] in self.fill() } }
        spoolFD = Glibc.open(spoolDirectory, csandbox_O_TMPFILE | O_RDWR | O_CLOEXEC, 0o600)
        guard spoolFD >= 0 else { throw .io(operation: "open(O_TMPFILE)", path: spoolDirectory, errno: errno) }
        while let buffer = next() {
            let failure = buffer.withUnsafeReadableBytes { writeFully(spoolFD, $0) }
            guard failure == 0 else { throw .io(operation: "write", path: "spooled upload", errno: failure) }
        }
        if let failure = feed.failure { throw failure }
        lseek(spoolFD, 0, SEEK_SET)
        return try ArchiveReader(seekableFile: spoolFD)
    }

    /// Whether the upload starts like a zip file (local file header, or the end record of an empty zip).
    private func isZip() -> Bool {
        var head: [UInt8] = []
        while head.count < 4, let buffer = feed.next() {
            pending.append(buffer)
            head += buffer.readableBytesView.prefix(4 - head.count)
        }
        return head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06]
    }

    private func next() -> ByteBuffer? {
        pending.isEmpty ? feed.next() : pending.removeFirst()
    }

    /// libarchive's read callback: a copy of the next buffer, valid until the following call.
    private func fill() -> UnsafeRawBufferPointer? {
        guard let buffer = next() else { return nil }
        if buffer.readableBytes > storage.count {
            storage.deallocate()
            storage = .allocate(byteCount: buffer.readableBytes, alignment: 16)
        }
        let count = buffer.withUnsafeReadableBytes { bytes in
            storage.copyMemory(from: bytes)
            return bytes.count
        }
        return UnsafeRawBufferPointer(rebasing: storage[..<count])
    }
}
