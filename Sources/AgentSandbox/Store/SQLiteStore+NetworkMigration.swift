import Foundation
import GRDB
import SandboxKernel

extension SQLiteStore {
    /// "v9: explicit network mode": agents created before the `isolated` mode existed followed the
    /// server's default, which was the host's network. The new default for new agents is `isolated`; so
    /// that an upgrade changes nothing for agents that exist, every live agent without a `network`
    /// setting gets `legacy` written into its settings (the server's `--network` when given at the
    /// upgrade, else `host`, the old default). Agents created afterwards follow the server's default.
    static func registerNetworkModeMigration(in migrator: inout DatabaseMigrator, legacy: NetworkPolicy) {
        migrator.registerMigration("v9: explicit network mode") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, settings FROM agents WHERE state != 'deleted'")
            for row in rows {
                let id: String = row["id"]
                let text: String? = row["settings"]
                var object = text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
                guard object["network"] == nil else { continue }
                object["network"] = legacy.rawValue
                let encoded = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
                try db.execute(sql: "UPDATE agents SET settings = ? WHERE id = ?", arguments: [encoded, id])
            }
        }
    }
}
