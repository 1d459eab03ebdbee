#if canImport(Glibc)
import Glibc
#endif

/// Signal names and numbers accepted by `POST .../exec/{sid}/kill`.
public enum ExecSignal {
    static let names: [(String, Int32)] = [
        ("SIGHUP", SIGHUP), ("SIGINT", SIGINT), ("SIGQUIT", SIGQUIT), ("SIGKILL", SIGKILL), ("SIGUSR1", SIGUSR1),
        ("SIGUSR2", SIGUSR2), ("SIGPIPE", SIGPIPE), ("SIGALRM", SIGALRM), ("SIGTERM", SIGTERM), ("SIGCONT", SIGCONT),
        ("SIGSTOP", SIGSTOP), ("SIGTSTP", SIGTSTP), ("SIGWINCH", SIGWINCH),
    ]

    /// `"SIGTERM"`, `"TERM"`, `"term"` or a number from 1 to 64.
    public static func parse(_ value: JSONValue?) throws(ToolError) -> Int32 {
        switch value {
        case nil, .null?:
            return SIGTERM
        case .number(let number)?:
            guard number == number.rounded(), number >= 1, number <= 64 else { break }
            return Int32(number)
        case .string(let text)?:
            let upper = text.uppercased()
            let name = upper.hasPrefix("SIG") ? upper : "SIG" + upper
            if let match = names.first(where: { $0.0 == name }) { return match.1 }
            if let number = Int32(text), number >= 1, number <= 64 { return number }
        default:
            break
        }
        throw ToolError.invalidField("signal", "must be a signal name such as \"SIGTERM\", \"SIGINT\" or \"SIGKILL\", or a number from 1 to 64.")
    }

    /// `SIGTERM` for 15; `SIG34` for numbers without a name here.
    public static func name(of signal: Int32) -> String {
        names.first { $0.1 == signal }?.0 ?? "SIG\(signal)"
    }
}
