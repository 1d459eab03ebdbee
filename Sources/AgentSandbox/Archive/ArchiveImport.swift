#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// One import from start to end; synchronous (it runs on its own thread, reading from an `ImportFeed`).
///
/// The archive is extracted into a fresh root-only staging directory under the server's state
/// directory (same file system as the workspaces, out of every agent's reach), with every check and
/// limit applied on the way. Only a complete, accepted staging tree touches the workspace:
/// `replace` swaps it in with one `renameat2(RENAME_EXCHANGE)` (the workspace is never seen half
/// imported; the old tree is removed afterwards), `merge` renames its entries in (`WorkspaceMerge`).
/// On any failure the staging directory is removed and the workspace is untouched.
struct ArchiveImport: Sendable {
    let workspacePath: String
    /// Owner of everything imported; nil in shared-uid mode (the server's own uid).
    let owner: Identity?
    /// `<state>/imports`, root-only.
    let stagingParent: String
    let limits: ImportLimits
    let mode: ImportMode
    /// Called right after `replace` swaps the new tree in (shared root descriptors must be dropped).
    var replaced: @Sendable () -> Void = {}

    func run(feed: ImportFeed) throws(ArchiveError) -> ImportReport {
        defer { feed.stop() }
        let input = ImportInput(feed: feed)
        return try run(failure: { feed.failure }) { spool throws(ArchiveError) in try input.makeReader(spoolDirectory: spool) }
    }

    /// Imports what `makeReader` (given the spool directory) reads; `failure` is why the input ended
    /// early, if it did (checked after the last entry). Snapshot restores read a stored blob this way.
    func run(failure: () -> ArchiveError? = { nil }, reader makeReader: (String) throws(ArchiveError) -> ArchiveReader) throws(ArchiveError) -> ImportReport {
        let staging = try makeStagingDirectory()
        var swapped = false
        defer {
            if swapped { Self.removeInBackground(staging, stagingParent: stagingParent) } else { _ = csandbox_remove_tree(staging) }
        }
        let rootFD = Glibc.open(staging, csandbox_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw .io(operation: "open", path: staging, errno: errno) }
        defer { close(rootFD) }

        let tree = StagingTree(rootFD: rootFD, owner: owner)
        var report: ImportReport
        do throws(ArchiveError) {
            let reader = try makeReader(stagingParent)
            try WorkspaceImporter(limits: limits).run(reader, into: tree)
            if let failure = failure() { throw failure }
            try tree.finish()
            report = tree.report
            report.format = reader.formatName
            report.compression = reader.filterName
        } catch {
            throw failure() ?? error
        }
        switch mode {
        case .replace:
            try swap(staging)
            swapped = true
            replaced()
        case .merge: try merge(staging, report: &report)
        }
        return report
    }

    private func makeStagingDirectory() throws(ArchiveError) -> String {
        if mkdir(stagingParent, 0o700) != 0, errno != EEXIST { throw .io(operation: "mkdir", path: stagingParent, errno: errno) }
        var template = Array("\(stagingParent)/import.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .io(operation: "mkdtemp", path: stagingParent, errno: errno)
        }
        return String(cString: made)
    }

    /// Replace: the staging tree becomes the workspace in one atomic exchange.
    private func swap(_ staging: String) throws(ArchiveError) {
        let owner = owner ?? Identity(uid: getuid(), gid: getgid())
        guard lchown(staging, owner.uid, owner.gid) == 0, chmod(staging, 0o700) == 0 else {
            throw .io(operation: "chown", path: staging, errno: errno)
        }
        if csandbox_renameat2(AT_FDCWD, staging, AT_FDCWD, workspacePath, 2 /* RENAME_EXCHANGE */) != 0 {
            throw .io(operation: "renameat2", path: workspacePath, errno: errno)
        }
    }

    /// Merge: the staging tree's entries are renamed into the workspace.
    private func merge(_ staging: String, report: inout ImportReport) throws(ArchiveError) {
        let from = Glibc.open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        let to = Glibc.open(workspacePath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        defer {
            if from >= 0 { close(from) }
            if to >= 0 { close(to) }
        }
        guard from >= 0, to >= 0 else { throw .io(operation: "open", path: workspacePath, errno: errno) }
        var a = stat(), b = stat()
        guard fstat(from, &a) == 0, fstat(to, &b) == 0, a.st_dev == b.st_dev else {
            throw .io(operation: "merge", path: workspacePath, errno: EXDEV)
        }
        try WorkspaceMerge.merge(from, into: to, report: &report)
    }
}

extension ArchiveImport {
    /// Removes staging directories and replaced trees a crash left behind (called at start-up).
    static func removeLeftovers(stateDirectory: String) {
        _ = csandbox_remove_tree(stateDirectory + "/imports")
        _ = csandbox_remove_tree(stateDirectory + "/trash")
    }

    /// The tree a `replace` swapped out goes to a trash directory and is removed on a thread of its own:
    /// the reply does not wait for it (removing files written moments ago waits for their writeback —
    /// measured: 4 s → 40 s for a 10k-file restore right after another). A crash leaves it for start-up.
    static func removeInBackground(_ tree: String, stagingParent: String) {
        // Beside `<state>/imports` (which stays empty between imports); inside an agent's own staging
        // directory (its disk image: a rename, and emptied when the image is mounted) otherwise.
        let trash = stagingParent.hasSuffix("/imports")
            ? String(stagingParent.dropLast("/imports".count)) + "/trash" : stagingParent + "/.replaced"
        _ = mkdir(trash, 0o700)
        let target = trash + "/" + (tree.split(separator: "/").last.map(String.init) ?? "tree")
        guard rename(tree, target) == 0 else {
            _ = csandbox_remove_tree(tree)
            return
        }
        let thread = Thread { _ = csandbox_remove_tree(target) }
        thread.name = "remove-replaced"
        thread.start()
    }
}
