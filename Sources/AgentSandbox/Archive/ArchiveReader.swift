#if canImport(Glibc)
import Glibc
#endif
import CArchive
import SandboxKernel

/// Owns one libarchive read handle (`archive_read_new` … `archive_read_free` in `deinit`) that pulls
/// its input from a source closure and detects the format and compression itself.
///
/// Only formats and filters that libarchive handles in-process are enabled: never `mtree` (it reads
/// files named by the archive from the server's disk) and never the filters that fall back to
/// running an external program.
///
/// ```swift
/// let reader = try ArchiveReader { next chunk, or nil at the end }
/// while let entry = try reader.nextEntry() { while let block = try reader.nextBlock() { … } }
/// ```
final class ArchiveReader {
    /// Returns the next input bytes (valid until the next call), or nil at the end of the input.
    typealias Source = () -> UnsafeRawBufferPointer?

    private let handle: OpaquePointer
    private let source: SourceBox?

    /// Reads a stream, pulling input from `source` as libarchive asks for it.
    init(source: @escaping Source) throws(ArchiveError) {
        handle = try Self.makeHandle()
        self.source = SourceBox(source)
        let context = Unmanaged.passUnretained(self.source!).toOpaque()
        try check(archive_read_open(handle, context, nil, { _, context, buffer in
            let box = Unmanaged<SourceBox>.fromOpaque(context!).takeUnretainedValue()
            guard let bytes = box.next(), let base = bytes.baseAddress else { return 0 }
            buffer?.pointee = base
            return bytes.count
        }, nil), "read_open")
    }

    /// Reads a regular file by descriptor (seekable: zip's central directory is then used, so modes
    /// and symlinks survive). The caller keeps the descriptor open until the reader is gone, and closes it.
    init(seekableFile fd: Int32) throws(ArchiveError) {
        handle = try Self.makeHandle()
        source = nil
        try check(archive_read_open_fd(handle, fd, 64 << 10), "read_open_fd")
    }

    private static func makeHandle() throws(ArchiveError) -> OpaquePointer {
        guard let handle = archive_read_new() else { throw .library(operation: "archive_read_new", message: "out of memory", errno: 0) }
        for enable in [archive_read_support_filter_gzip, archive_read_support_filter_bzip2, archive_read_support_filter_xz,
                       archive_read_support_filter_lzma, archive_read_support_filter_zstd, archive_read_support_filter_lz4,
                       archive_read_support_filter_compress] {
            _ = enable(handle)  // ARCHIVE_WARN: built without the library; that filter is then unavailable.
        }
        for enable in [archive_read_support_format_tar, archive_read_support_format_gnutar, archive_read_support_format_zip,
                       archive_read_support_format_cpio] {
            guard enable(handle) == ARCHIVE_OK else {
                archive_read_free(handle)
                throw .library(operation: "read_support_format", message: "format unavailable", errno: 0)
            }
        }
        return handle
    }

    deinit { archive_read_free(handle) }

    /// The next entry's header, or nil at the end of the archive. The entry is valid until the next call.
    func nextEntry() throws(ArchiveError) -> ArchiveEntryView? {
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(handle, &entry)
            if status == ARCHIVE_EOF { return nil }
            if status == ARCHIVE_RETRY { continue }
            try check(status, "read_next_header")
            guard let entry else { throw .invalid("an entry without a header") }
            return ArchiveEntryView(handle: entry)
        }
    }

    /// The next block of the current entry's data and its offset (sparse files have holes); nil at its end.
    func nextBlock() throws(ArchiveError) -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return nil }
            if status == ARCHIVE_RETRY { continue }
            try check(status, "read_data_block")
            return (offset, UnsafeRawBufferPointer(start: buffer, count: size))
        }
    }

    /// The detected format and compression, e.g. "POSIX pax interchange format" / "gzip".
    var formatName: String { archive_format_name(handle).map { String(cString: $0) } ?? "unknown" }
    var filterName: String { archive_filter_name(handle, 0).map { String(cString: $0) } ?? "none" }

    private func check(_ status: Int32, _ operation: String) throws(ArchiveError) {
        if status == ARCHIVE_OK || status == ARCHIVE_WARN { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
        throw status == ARCHIVE_FATAL || status == ARCHIVE_FAILED ? .invalid(message) : .library(operation: operation, message: message, errno: archive_errno(handle))
    }
}

/// A read entry's header fields (borrowed from libarchive; valid until the next `nextEntry`).
struct ArchiveEntryView {
    let handle: OpaquePointer

    /// The raw path bytes (not necessarily UTF-8), or nil when the entry has none.
    var path: [UInt8]? { Self.bytes(archive_entry_pathname(handle)) }
    var fileType: FileType? { FileType(mode: archive_entry_filetype(handle)) }
    var rawFileType: UInt32 { archive_entry_filetype(handle) }
    var permissions: UInt32 { archive_entry_perm(handle) }
    /// The declared content size, when the archive declares one.
    var size: Int64? { archive_entry_size_is_set(handle) != 0 ? archive_entry_size(handle) : nil }
    var mtime: timespec? {
        archive_entry_mtime_is_set(handle) != 0 ? timespec(tv_sec: archive_entry_mtime(handle), tv_nsec: archive_entry_mtime_nsec(handle)) : nil
    }
    var symlinkTarget: [UInt8]? { Self.bytes(archive_entry_symlink(handle)) }
    var hardlinkTarget: [UInt8]? { Self.bytes(archive_entry_hardlink(handle)) }
}

extension ArchiveEntryView {
    /// The bytes of a C string (nil stays nil).
    fileprivate static func bytes(_ string: UnsafePointer<CChar>?) -> [UInt8]? {
        string.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: strlen($0))) }
    }
}

/// Holds the source for the C callback (passed as its context pointer).
private final class SourceBox {
    private let body: ArchiveReader.Source
    private var ended = false

    init(_ body: @escaping ArchiveReader.Source) { self.body = body }

    func next() -> UnsafeRawBufferPointer? {
        if ended { return nil }
        guard let bytes = body() else {
            ended = true
            return nil
        }
        return bytes
    }
}
