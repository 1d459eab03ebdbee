extension CallPipeline {
    /// Runs one of the registered tools (`bash`, `file_read` …) and answers with its envelope.
    /// A tool-level failure (file not found, timeout) and a request-level one (bad input, 409, 429)
    /// are both thrown as `ToolError`; `ToolError.asEnvelope` and `httpStatus` say how each travels.
    nonisolated(nonsending) public func callTool(_ request: CallRequest) async throws(ToolError) -> Envelope {
        var request = request
        guard let tool = tools.runner(named: request.operation) else {
            let unknown = ToolError(.toolNotFound, "Unknown tool '\(request.operation.prefix(64))'. Available tools: \(tools.names.joined(separator: ", ")).")
            request.operation = "unknown_tool"
            try reject(request, unknown)
        }
        request.schema = request.operation
        return try await run(request, admission: .toolCall, bytes: Self.bytes(of:)) { admitted in
            try await tool(admitted.input, ToolContext(workspace: admitted.workspace, shares: shares))
        }
    }

    /// Runs several tool calls a model emitted in one turn, concurrently, answering in their order.
    /// Each result is the call's envelope, or its failure as an envelope with its `ToolError`.
    public func callTools(_ requests: [CallRequest]) async -> [Result<Envelope, ToolError>] {
        await withTaskGroup(of: (Int, Result<Envelope, ToolError>).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await self.callTool(request)))
                    } catch {
                        return (index, .failure(ToolError(normalizing: error)))
                    }
                }
            }
            var results = [Result<Envelope, ToolError>?](repeating: nil, count: requests.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }
}
