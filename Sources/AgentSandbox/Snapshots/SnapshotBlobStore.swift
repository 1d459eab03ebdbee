/// Where snapshot archives live: a small key → bytes interface, written once and read whole, so an
/// object store (S3's multipart upload and ranged GET) can stand in for the file system later.
///
/// A blob is invisible under its key until its upload is committed; a reader never sees a partial one.
///
/// ```swift
/// let upload = try store.beginUpload(key: "agent/snap.tar.zst")
/// _ = upload.write(bytes); let size = try upload.commit()
/// let download = try store.open(key: "agent/snap.tar.zst")
/// while let bytes = download.next() { … }
/// ```
public protocol SnapshotBlobStore: Sendable {
    /// Starts writing a new blob under `key` (a relative path of `[a-z0-9._/-]`).
    func beginUpload(key: String) throws(ToolError) -> any SnapshotBlobUpload
    /// Opens a committed blob for reading from its start.
    func open(key: String) throws(ToolError) -> any SnapshotBlobDownload
    /// Removes the blob; a missing blob is not an error.
    func delete(key: String)
}

/// One blob being written, in order. Used by one thread; `commit` or `abort` it exactly once.
public protocol SnapshotBlobUpload: AnyObject, Sendable {
    /// Appends bytes; false when the upload failed (then `commit` throws the reason).
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Makes the blob durable and visible under its key; returns its size in bytes.
    func commit() throws(ToolError) -> Int64
    /// Drops what was written.
    func abort()
    /// Why a `write` failed, if one did.
    var failure: ToolError? { get }
}

/// One blob being read, front to back. Used by one thread.
public protocol SnapshotBlobDownload: AnyObject, Sendable {
    /// The next bytes (valid until the following call), or nil at the end or on failure (see `failure`).
    func next() -> UnsafeRawBufferPointer?
    /// Why reading stopped early, if it did.
    var failure: ToolError? { get }
}
