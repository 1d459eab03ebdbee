#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Turns a tool's path argument into a place inside the workspace, and opens it there safely.
///
/// Paths are relative to the workspace root. An absolute path is accepted only when it names a place
/// inside the workspace as the agent's shell sees it (the host path of the workspace, or `/workspace/…`).
/// Opening goes through `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` from a descriptor of the
/// root, so `..`, absolute symlinks and symlinks swapped in between check and use cannot escape: the
/// kernel resolves every component against the root at the moment of use.
public struct PathResolver: Sendable {
    public let root: String
    /// The mount point clients may use for the workspace in absolute paths.
    public static let virtualRoot = "/workspace"

    /// The root opened once for the agent's calls (`RootDescriptorCache`); nil: open it per call.
    public let rootDescriptor: RootDescriptor?

    public init(root: String, rootDescriptor: RootDescriptor? = nil) {
        self.root = root
        self.rootDescriptor = rootDescriptor
    }

    /// Validates `raw` and returns it relative to the root, normalised (no `.`, no `..`, no `//`).
    /// An empty result means the root itself, allowed only when `allowRoot`.
    public func relative(_ raw: String, field: String, allowRoot: Bool = false) throws(ToolError) -> String {
        if raw.utf8.contains(0) { throw ToolError.invalidField(field, "contains a NUL byte; remove it.") }
        if raw.utf8.count >= Int(PATH_MAX) {
            throw ToolError.invalidField(field, "is \(raw.utf8.count) bytes long; paths must be shorter than \(PATH_MAX) bytes.")
        }
        if Self.isNormalized(raw) { return raw }
        var path = Substring(raw)
        if path.hasPrefix("/") {
            if let inside = strip(prefix: root, from: path) ?? strip(prefix: Self.virtualRoot, from: path) {
                path = inside
            } else {
                throw ToolError(.pathOutsideWorkspace, "Path '\(raw)' is outside the workspace. Use a path relative to the workspace root (e.g. 'src/app.py') or one under \(Self.virtualRoot)/.")
            }
        }
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if components.popLast() == nil {
                    throw ToolError(.pathOutsideWorkspace, "Path '\(raw)' leads outside the workspace through '..'. Use a path inside the workspace root.")
                }
                continue
            }
            guard component.utf8.count <= Int(NAME_MAX) else {
                throw ToolError.invalidField(field, "has a component longer than \(NAME_MAX) bytes.")
            }
            components.append(component)
        }
        if components.isEmpty, !allowRoot {
            throw ToolError.invalidField(field, raw.isEmpty ? "must not be empty: name a file relative to the workspace root." : "names the workspace root itself; name a file inside it.")
        }
        return components.joined(separator: "/")
    }

    /// True when `raw` is already what `relative` returns: relative, no empty, `.` or `..` component,
    /// no trailing slash, every component at most NAME_MAX bytes (most paths agents send).
    static func isNormalized(_ raw: String) -> Bool {
        var length = 0
        var onlyDots = true
        for byte in raw.utf8 {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (onlyDots && length <= 2) { return false }
                length = 0
                onlyDots = true
                continue
            }
            length += 1
            if length > Int(NAME_MAX) { return false }
            if byte != UInt8(ascii: ".") { onlyDots = false }
        }
        return length > 0 && !(onlyDots && length <= 2)
    }

    private func strip(prefix: String, from path: Substring) -> Substring? {
        if path == prefix { return "" }
        if path.hasPrefix(prefix + "/") { return path.dropFirst(prefix.count + 1) }
        return nil
    }

    /// Opens the workspace root itself (`csandbox_O_PATH | O_DIRECTORY`): a duplicate of the shared
    /// root descriptor when there is one, else by path. The caller closes it.
    public func openRoot() throws(ToolError) -> Int32 {
        let fd = rootDescriptor.map { shared in withExtendedLifetime(shared) { fcntl(shared.fd, F_DUPFD_CLOEXEC, 0) } }
            ?? Glibc.open(root, csandbox_O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw ToolError(.internalError, "The workspace directory is missing (\(String(cString: strerror(errno)))).") }
        return fd
    }

    /// Opens `relative` beneath the root with `openat2`; maps escapes to `PATH_OUTSIDE_WORKSPACE`.
    /// The caller closes the descriptor.
    public func open(_ relative: String, flags: Int32, mode: mode_t = 0, display: String? = nil) throws(ToolError) -> Int32 {
        if let rootDescriptor {
            return try withExtendedLifetime(rootDescriptor) { () throws(ToolError) in
                try open(relative, beneath: rootDescriptor.fd, flags: flags, mode: mode, display: display)
            }
        }
        let rootFD = try openRoot()
        defer { close(rootFD) }
        return try open(relative, beneath: rootFD, flags: flags, mode: mode, display: display)
    }

    /// Opens `relative` beneath an already open directory of the workspace.
    public func open(_ relative: String, beneath directory: Int32, flags: Int32, mode: mode_t = 0, display: String? = nil) throws(ToolError) -> Int32 {
        let fd = csandbox_open_beneath(directory, relative.isEmpty ? "." : relative, flags, mode, 0)
        if fd >= 0 { return fd }
        throw Self.error(errno: errno, path: display ?? relative)
    }

    /// The absolute host path of an open descriptor (for a child's working directory).
    public static func hostPath(of fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(fd)", &buffer, Int(PATH_MAX))
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Maps an errno from opening `path` to the tool error an agent can act on.
    public static func error(errno code: Int32, path: String) -> ToolError {
        switch code {
        case ENOENT:
            ToolError(.fileNotFound, "File not found: '\(path)'. Paths are relative to the workspace root; use glob to find files.")
        case EXDEV, ELOOP:
            ToolError(.pathOutsideWorkspace, "Path '\(path)' resolves outside the workspace (through '..' or a symlink). Use a path inside the workspace root.")
        case EISDIR:
            ToolError(.isADirectory, "'\(path)' is a directory, not a file. Use glob or bash 'ls' to list it, and name a file inside it.")
        case ENOTDIR:
            ToolError(.notADirectory, "A component of '\(path)' is not a directory.")
        case EACCES, EPERM:
            ToolError(.permissionDenied, "Permission denied for '\(path)'.")
        case ENAMETOOLONG:
            ToolError(.invalidRequest, "Path '\(path.prefix(100))…' is too long.")
        case ENOSPC, EDQUOT:
            ToolError(.noSpace, "No space left on the device while writing '\(path)'.")
        default:
            ToolError(.ioError, "Cannot open '\(path)': \(String(cString: strerror(code))).")
        }
    }
}
