#if canImport(Glibc)
import Glibc
#endif
import CArchive

/// Owns one libarchive write handle (`archive_write_new` … `archive_write_free` in `deinit`) whose
/// output goes, block by block, to a sink closure. Not thread-safe: one producer thread uses it.
///
/// ```swift
/// let writer = try ArchiveWriter(format: .tarGz) { bytes in send(bytes) }
/// try writer.write(header: entry); try writer.write(data: buffer); try writer.close()
/// ```
final class ArchiveWriter {
    /// Receives each output block; returns false to abort (the consumer went away).
    typealias Sink = (UnsafeRawBufferPointer) -> Bool

    /// Output block size: each sink call carries about this much (the last one less).
    static let blockSize = 64 << 10

    private let handle: OpaquePointer
    private let sink: SinkBox
    private var closed = false

    /// `options`: libarchive write options (`"zstd:threads=0"`), applied before the archive opens.
    init(format: ArchiveFormat, options: String? = nil, sink: @escaping Sink) throws(ArchiveError) {
        guard let handle = archive_write_new() else { throw .library(operation: "archive_write_new", message: "out of memory", errno: 0) }
        self.handle = handle
        self.sink = SinkBox(sink)
        switch format {
        case .tar: try check(archive_write_set_format_pax_restricted(handle), "set_format_pax_restricted")
        case .tarGz:
            try check(archive_write_set_format_pax_restricted(handle), "set_format_pax_restricted")
            try check(archive_write_add_filter_gzip(handle), "add_filter_gzip")
        case .tarZst:
            try check(archive_write_set_format_pax_restricted(handle), "set_format_pax_restricted")
            try check(archive_write_add_filter_zstd(handle), "add_filter_zstd")
        case .zip: try check(archive_write_set_format_zip(handle), "set_format_zip")
        }
        if let options { try check(archive_write_set_options(handle, options), "set_options") }
        try check(archive_write_set_bytes_per_block(handle, Int32(Self.blockSize)), "set_bytes_per_block")
        // No padding after the last block: a compressed stream ends where the compressor says.
        try check(archive_write_set_bytes_in_last_block(handle, 1), "set_bytes_in_last_block")
        let context = Unmanaged.passUnretained(self.sink).toOpaque()
        try check(archive_write_open(handle, context, nil, { _, context, buffer, length in
            let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
            return box.sink(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : -1
        }, nil), "write_open")
    }

    deinit {
        // archive_write_free closes the archive first if needed (flushing into the sink).
        archive_write_free(handle)
    }

    /// Writes one entry's header; its data (if any) follows with `write(data:)`.
    func write(header entry: ArchiveEntryBuilder) throws(ArchiveError) {
        try check(archive_write_header(handle, entry.handle), "write_header")
    }

    /// Appends data to the current entry.
    func write(data: UnsafeRawBufferPointer) throws(ArchiveError) {
        var remaining = data
        while !remaining.isEmpty {
            let written = archive_write_data(handle, remaining.baseAddress, remaining.count)
            if written < 0 { try check(Int32(written), "write_data") }
            if written == 0 { throw error("write_data") }
            remaining = UnsafeRawBufferPointer(rebasing: remaining[written...])
        }
    }

    /// Entries written so far, and the archive's bytes before compression (what the first filter —
    /// the compressor, or the output itself for a plain tar — was given).
    var entryCount: Int { Int(archive_file_count(handle)) }
    var uncompressedBytes: Int64 { archive_filter_bytes(handle, 0) }

    /// Ends the archive: flushes the compressor and the last block into the sink.
    func close() throws(ArchiveError) {
        guard !closed else { return }
        closed = true
        try check(archive_write_close(handle), "write_close")
    }

    private func check(_ status: Int32, _ operation: String) throws(ArchiveError) {
        if status == ARCHIVE_OK || status == ARCHIVE_WARN { return }
        throw error(operation)
    }

    private func error(_ operation: String) -> ArchiveError {
        if sink.aborted { return .cancelled }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        return .library(operation: operation, message: message, errno: archive_errno(handle))
    }
}

/// Holds the sink for the C callback (passed as its context pointer).
private final class SinkBox {
    private let body: ArchiveWriter.Sink
    private(set) var aborted = false

    init(_ body: @escaping ArchiveWriter.Sink) { self.body = body }

    func sink(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if aborted { return false }
        if !body(bytes) { aborted = true }
        return !aborted
    }
}
