#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SandboxKernel

extension ToolError {
    /// Any error a call can raise, as the one `ToolError` it travels as: the single place where the
    /// core's other error types (launch, system call, decoding, archive) get their code and sentence.
    public init(normalizing error: any Error) {
        switch error {
        case let error as ToolError:
            self = error
        case let error as LaunchError:
            self = ToolError(.execFailed, "The command could not be started: \(error.description).")
        case let error as SystemCallError:
            self = Self.systemCall(error)
        case let error as DecodingError:
            self = Self.decoding(error)
        case let error as ArchiveError:
            self = error.toolError
        case is CancellationError:
            self = ToolError(.cancelled, "The call was cancelled before it finished.")
        default:
            self = ToolError(.internalError, "Internal error: \(error). The server keeps running; retry or report this.")
        }
    }

    /// Resource exhaustion is the server's state, not the request's fault: 503, retry later.
    private static func systemCall(_ error: SystemCallError) -> ToolError {
        switch error.errno {
        case EMFILE, ENFILE, ENOMEM, EAGAIN:
            ToolError(.serverBusy, "The server is short of resources (\(error.description)); retry in a moment.")
        case ENOSPC, EDQUOT:
            ToolError(.noSpace, "No space left: \(error.description). Free space in the workspace and retry.")
        default:
            ToolError(.execFailed, "The call could not run: \(error.description).")
        }
    }

    /// A body that passed its schema but not its Swift type (a case the schema does not express).
    private static func decoding(_ error: DecodingError) -> ToolError {
        func field(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "(body)" : path.map { $0.intValue.map(String.init) ?? $0.stringValue.snakeCased }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(field(context.codingPath + [key]), "is required.")
        case .typeMismatch(let type, let context):
            return .invalidField(field(context.codingPath), "must be of type \(String(describing: type).lowercased()).")
        case .valueNotFound(_, let context):
            return .invalidField(field(context.codingPath), "must not be null.")
        case .dataCorrupted(let context):
            return .invalidField(field(context.codingPath), "is not valid: \(context.debugDescription)")
        @unknown default:
            return ToolError(.invalidRequest, "The request body does not have the expected shape.")
        }
    }
}

extension String {
    /// `workingDir` → `working_dir`: a Swift property name as the wire spells it.
    var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
