/// The bubblewrap command line that wraps an agent's program in namespaces.
///
/// bwrap is exec'd by the helper *after* it dropped to the agent's uid (bwrap run as root with `--uid`
/// stays host root). The root is a tmpfs with read-only binds of the system directories; the only
/// writable places are the agent's workspace — bound at its host path, so file-tool paths, bash paths
/// and `$HOME` agree — and a private size-limited `/tmp`. `/etc/passwd` and `/etc/group` get an entry
/// for the agent (so `whoami`, `git`, `pip --user` work) from memfds the helper creates at fds 4 and 5.
public struct BubblewrapProfile: Sendable {
    public let executable: String
    /// Bytes of the private `/tmp` (tmpfs).
    public var tmpBytes: Int64 = 512 << 20

    public init(executable: String) {
        self.executable = executable
    }

    /// Finds bwrap in the usual places; nil when it is not installed.
    public static func locate() -> BubblewrapProfile? {
        for path in ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"] where access(path, X_OK) == 0 {
            return BubblewrapProfile(executable: path)
        }
        return nil
    }

    /// The helper's `--data-fd` texts, in fd order (4: passwd, 5: group).
    public func dataFiles(identity: Identity, home: String) -> [String] {
        [
            "root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:\(identity.uid):\(identity.gid):agent:\(home):/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            "root:x:0:\nagent:x:\(identity.gid):\nnogroup:x:65534:\n",
        ]
    }

    /// bwrap's argv up to and including `--`; the program and its arguments follow. `bindIn` binds a
    /// host file read-only at a path inside: the warm sandbox's zygote, which then runs as the namespace's
    /// pid 1 (`--as-pid-1`), so that no bubblewrap init — dumpable, holding the zygote's socket — sits
    /// beside it where agent code could reach it, and keeps `CAP_SYS_ADMIN` in the sandbox's user
    /// namespace to give each call a pid namespace and `/proc` of its own (its call slots drop it).
    /// `network`: `host` and `isolated` keep the helper's network namespace (the host's, or the agent's
    /// that the helper joined), `none` gets bubblewrap's own (loopback only). `resolvConfPath`: where the
    /// agent's resolv.conf (data fd 6) is bound — isolated agents resolve through their gateway.
    public func arguments(
        workspace: String, workingDirectory: String, network: NetworkPolicy, bindIn: (host: String, path: String)? = nil,
        resolvConfPath: String? = nil
    ) -> [String] {
        var arguments = [executable, "--unshare-all", "--unshare-user", "--disable-userns"]
        if network != .none { arguments.append("--share-net") }
        arguments += ["--new-session", "--die-with-parent", "--hostname", "agent-sandbox"]
        if bindIn != nil { arguments += ["--as-pid-1", "--cap-add", "CAP_SYS_ADMIN"] }
        arguments += ["--tmpfs", "/", "--ro-bind", "/usr", "/usr"]
        for link in ["bin", "lib", "lib64", "sbin"] { arguments += ["--symlink", "usr/\(link)", "/\(link)"] }
        arguments += ["--ro-bind", "/etc", "/etc", "--ro-bind-data", "4", "/etc/passwd", "--ro-bind-data", "5", "/etc/group"]
        if let resolvConfPath { arguments += ["--ro-bind-data", "6", resolvConfPath] }
        arguments += ["--ro-bind-try", "/opt", "/opt"]
        arguments += ["--proc", "/proc", "--dev", "/dev"]
        arguments += ["--size", String(tmpBytes), "--tmpfs", "/tmp", "--size", String(tmpBytes), "--tmpfs", "/var/tmp"]
        if let bindIn { arguments += ["--ro-bind", bindIn.host, bindIn.path] }
        arguments += ["--bind", workspace, workspace, "--chdir", workingDirectory]
        arguments.append("--")
        return arguments
    }
}

#if canImport(Glibc)
import Glibc
#endif
