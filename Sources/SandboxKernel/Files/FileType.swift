/// libarchive's entry file types (`AE_IF*`, the `S_IF*` values; the C macros are casts Swift cannot import).
package enum FileType: UInt32, Sendable {
    case regular = 0o100000
    case directory = 0o040000
    case symlink = 0o120000
    case fifo = 0o010000
    case characterDevice = 0o020000
    case blockDevice = 0o060000
    case socket = 0o140000

    /// From an `st_mode` (or an `archive_entry_filetype`); nil for an unknown type.
    package init?(mode: UInt32) { self.init(rawValue: mode & 0o170000) }
}
