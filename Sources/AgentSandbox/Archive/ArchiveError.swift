#if canImport(Glibc)
import Glibc
#endif

/// What can go wrong while exporting or importing a workspace archive. Thrown by the libarchive
/// wrappers and the importer; `toolError` (the only mapping) turns it into the API's error.
public enum ArchiveError: Error, Sendable, Equatable {
    /// libarchive failed: the operation, its message and errno.
    case library(operation: String, message: String, errno: Int32)
    /// The body is not an archive libarchive can read, or it is damaged.
    case invalid(String)
    /// An entry would escape the workspace (absolute path, `..`): the whole archive is refused.
    case unsafe(path: String, reason: String)
    /// More content or entries than the server accepts (decompression bomb or simply too big).
    case tooLarge(String)
    /// A file-system call failed while staging or applying the import.
    case io(operation: String, path: String, errno: Int32)
    /// The other side went away (client disconnected, request cancelled).
    case cancelled
}

extension ArchiveError {
    /// The API error for this failure, with a sentence that says what to do.
    public var toolError: ToolError {
        switch self {
        case .library(let operation, let message, _):
            ToolError(.internalError, "libarchive failed in \(operation): \(message).")
        case .invalid(let message):
            ToolError(.archiveInvalid, "The archive cannot be read (\(message)); nothing was imported. Send a tar, tar.gz, tar.zst, tar.xz, tar.bz2, zip or cpio archive; the format is detected from its content.")
        case .unsafe(let path, let reason):
            ToolError(.archiveUnsafe, "The archive was refused and nothing was imported: entry '\(path)' \(reason). Archive paths must be relative to the workspace root and must not contain '..'.")
        case .tooLarge(let message):
            ToolError(.archiveTooLarge, "The archive was refused and nothing was imported: \(message)")
        case .io(let operation, let path, let code):
            switch code {
            case ENOSPC, EDQUOT:
                ToolError(.insufficientStorage, "No space left on the server's disk while importing '\(path)'; nothing was imported.")
            case ENAMETOOLONG, EINVAL, EMLINK, ENOENT, EEXIST, ENOTDIR, EISDIR, ELOOP, EILSEQ:
                // Raised by what the archive contains (odd names, link counts, shapes): the caller's input.
                ToolError(.archiveInvalid, "Entry '\(path)' cannot be created (\(operation): \(String(cString: strerror(code)))); nothing was imported.")
            default:
                ToolError(.internalError, "Import failed at \(operation)('\(path)'): \(String(cString: strerror(code))); nothing was imported.")
            }
        case .cancelled:
            ToolError(.invalidRequest, "The transfer was interrupted before the archive was complete; nothing was imported.")
        }
    }
}

