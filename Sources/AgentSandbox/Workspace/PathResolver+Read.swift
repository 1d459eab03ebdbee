#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// An open regular file of the workspace and its status; closed when the handle goes away.
public final class OpenFile: Sendable {
    public let fd: Int32
    public let info: stat
    init(fd: Int32, info: stat) {
        self.fd = fd
        self.info = info
    }
    deinit { close(fd) }

    public var size: Int { Int(info.st_size) }

    /// The whole content (regular files only; the size is known up front).
    public func readAll(display: String) throws(ToolError) -> [UInt8] {
        switch FileIO.readAll(fd, sizeHint: size) {
        case .success(let bytes): return bytes
        case .failure(let error): throw PathResolver.error(errno: error.code, path: display)
        }
    }
}

extension PathResolver {
    /// Opens an existing regular file for reading beneath the root (in-tree symlinks followed).
    ///
    /// `O_NONBLOCK` keeps a FIFO from hanging the server; directories, FIFOs, sockets and devices are
    /// refused. In isolated mode a file with several hard links that the agent does not own is refused
    /// too: the server reads as root, and such a link could name a file the agent may not read.
    public func openForReading(_ relative: String, owner: Identity?, display: String) throws(ToolError) -> OpenFile {
        let fd = try open(relative, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, display: display)
        return try checkedFile(fd, owner: owner, display: display)
    }

    /// Opens the existing file of a write target (its single name in its open directory, without
    /// following symlinks): the very file a later `StagedFile.commit` replaces.
    public func openForReading(_ target: WriteTarget, owner: Identity?, display: String) throws(ToolError) -> OpenFile {
        let fd = csandbox_open_beneath(target.directory.fd, target.name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, 0, 1)
        guard fd >= 0 else { throw Self.error(errno: errno, path: display) }
        return try checkedFile(fd, owner: owner, display: display)
    }

    private func checkedFile(_ fd: Int32, owner: Identity?, display: String) throws(ToolError) -> OpenFile {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = errno
            close(fd)
            throw Self.error(errno: failure, path: display)
        }
        let file = OpenFile(fd: fd, info: info)
        if info.isDirectory {
            throw ToolError(.isADirectory, "'\(display)' is a directory, not a file. Use glob (or bash 'ls') to list it, then read a file inside it.")
        }
        guard info.isRegularFile else {
            throw ToolError(.notARegularFile, "'\(display)' is not a regular file (a FIFO, socket or device); file tools only handle regular files.")
        }
        if let owner, info.st_nlink > 1, info.st_uid != owner.uid {
            throw ToolError(.permissionDenied, "'\(display)' is a hard link to a file the agent does not own; it cannot be read through the file tools.")
        }
        return file
    }
}
