#if canImport(Glibc)
import Glibc
#endif

/// Turns "no space left" into `DISK_QUOTA_EXCEEDED` when it is the agent's own cap that is full (its
/// workspace is in a disk image: ENOSPC there means the image is full), with a sentence that says what
/// uses the space and how to get more. Cheap (one `statfs`): it runs on every failed call.
public enum DiskQuotaError {
    public static func explained(_ error: ToolError, agent: Agent?) -> ToolError {
        guard error.code == .noSpace || error.code == .insufficientStorage, let agent, let cap = agent.settings.diskBytes else { return error }
        let mountPoint = String(agent.workspacePath.dropLast("/workspace".count))
        var info = statvfs()
        var used = ""
        if agent.workspacePath.hasSuffix("/workspace"), statvfs(mountPoint, &info) == 0 {
            let bytes = Int64(info.f_blocks - info.f_bfree) * Int64(info.f_frsize)
            used = " its workspace uses \(format(bytes)) of"
        }
        let id = agent.id
        var explained = error
        explained.code = .diskQuotaExceeded
        explained.message = "Agent \(id)'s disk is full:\(used) its \(format(cap)) cap (limits.disk_bytes = \(cap); GET /v1/agents/\(id) shows disk_usage_bytes and disk_limit_bytes), so nothing was written. "
            + "Delete files it no longer needs (bash `du -sh * .[!.]* | sort -h` lists the largest) or raise the cap with PATCH /v1/agents/\(id) {\"limits\": {\"disk_bytes\": N}}. (\(error.message))"
        return explained
    }

    /// `16 MiB`, `9.8 GiB`.
    static func format(_ bytes: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : (value.rounded() == value ? "\(Int(value)) \(units[unit])" : "\(Double(Int(value * 10)) / 10) \(units[unit])")
    }
}
