/// Runs one of the host's network tools (`ip`, `nft`, `unshare`) through `HostCommand`, as a throwing call.
/// Blocking: call it from `BlockingWork`.
enum NetworkCommand {
    /// The tool failed: its first line of stderr (or exit status) in a sentence.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The tool's absolute path; nil when it is not installed.
    static func locate(_ name: String) -> String? { HostCommand.locate(name) }

    /// Runs `executable` with `arguments`, feeding `input` on stdin; throws `Failure` on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], input: String = "") throws {
        if let failure = HostCommand.run(executable, arguments, input: input) {
            throw Failure(description: failure)
        }
    }
}
