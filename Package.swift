// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "AgentSandbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "agent-sandbox", targets: ["AgentSandboxCLI"]),
        .executable(name: "agent-sandbox-exec", targets: ["SandboxExec"]),
        .library(name: "AgentSandbox", targets: ["AgentSandbox"]),
        .library(name: "Tools", targets: ["Tools"]),
        .library(name: "AgentSandboxHTTP", targets: ["AgentSandboxHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Already built for Hummingbird's graph: SHA-256 for key hashes and share checksums costs no build time.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // MCP server side (issue 15): JSON-RPC types, the SDK's `Server`, Streamable HTTP validators. Only the
        // HTTP edge links it; it brings swift-system (and eventsource, used on Apple platforms only).
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        // The cluster store (issue 20): PostgreSQL's wire protocol, with a connection pool (`PostgresClient`).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Already in Hummingbird's graph: the HTTP part types (`HTTPRequestPart`) the gateway's fast path
        // handles in the server pipeline (`FastPathHandler`).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        // Small C helpers Swift cannot reach directly (variadic syscall(2): openat2, pidfd_open, close_range).
        .target(name: "CSandbox"),
        // libarchive, from the system (libarchive-dev): workspace export and import.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // The exec helper: posix_spawn'ed by the server, it joins the cgroup, sets rlimits, closes fds,
        // drops groups/gid/uid, sets no_new_privs and execs the agent's command. No Swift runs after fork.
        .executableTarget(
            name: "SandboxExec",
            // A C program, but swiftc links it: static, so no spawn pays for loading libswiftCore and
            // libstdc++ dynamically (measured: 2.5 ms -> 1.5 ms for helper + bash -c true).
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The sandbox kernel: what talks to Linux on an agent's behalf and knows nothing of agents records,
        // the wire or the store — the launcher and its helper protocol, cgroups, warm sandboxes, network
        // namespaces, the bounded tree walkers, host tools, and the syscall wrappers (EINTR handled once).
        // Its failures are errno-carrying `SystemCallError`/`LaunchError`; the core maps them to the wire in
        // one place (`ToolError(normalizing:)`). No Hummingbird, no GRDB.
        .target(
            name: "SandboxKernel",
            dependencies: [
                "CSandbox",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The core: the vocabulary (ToolError, Envelope, CallPipeline), agents, the store, workspaces (the path
        // resolver speaks the API's error codes), exec sessions, archives, snapshots and shares. No HTTP
        // server in here: the edge imports the core, never the reverse (HTTPTypes only names statuses; NIOCore
        // only provides ByteBuffer).
        .target(
            name: "AgentSandbox",
            dependencies: [
                "SandboxKernel", "CSandbox", "CArchive",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Tools", dependencies: ["AgentSandbox", "SandboxKernel", "CSandbox"]),
        // The HTTP edge: routes, middleware and every entry adapter, each a thin translation onto the core's
        // CallPipeline.
        .target(
            name: "AgentSandboxHTTP",
            dependencies: [
                "AgentSandbox", "SandboxKernel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The reverse proxy (Proxy/): client bootstraps and the upstream WebSocket handshake.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                // The gateway's fast path sits before the HTTP/1 → HTTPTypes converter (`HTTP1ToHTTPServerCodec`).
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "AgentSandboxCLI",
            dependencies: [
                "AgentSandbox", "AgentSandboxHTTP", "Tools", "SandboxKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Same-run micro benchmarks of the store's column coding and of request-body decoding
        // (scripts/bench-coding); not part of the server.
        .executableTarget(
            name: "CodingBench",
            dependencies: ["AgentSandbox", "Tools", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/CodingBench"
        ),
        .testTarget(
            name: "AgentSandboxTests",
            dependencies: ["AgentSandbox", "AgentSandboxHTTP", "Tools", "SandboxKernel", "CSandbox", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
