/// An export format: the libarchive writer format and filter, the file extension and the media type.
public enum ArchiveFormat: String, Sendable, CaseIterable {
    case tarGz = "tar.gz"
    case tar
    case zip
    case tarZst = "tar.zst"

    /// Parses the `format` query parameter (also accepts `tgz`); nil when unknown.
    public init?(query: String) {
        switch query.lowercased() {
        case "tar.gz", "tgz", "gz", "gzip": self = .tarGz
        case "tar": self = .tar
        case "zip": self = .zip
        case "tar.zst", "tzst", "zst", "zstd": self = .tarZst
        default: return nil
        }
    }

    /// The file extension, also the `Content-Disposition` suffix.
    public var fileExtension: String { rawValue }

    public var mediaType: String {
        switch self {
        case .tarGz: "application/gzip"
        case .tar: "application/x-tar"
        case .zip: "application/zip"
        case .tarZst: "application/zstd"
        }
    }
}
