import SandboxKernel
extension TreeWalk {
    /// The next event, a walk failure as the archive error it travels as (export and merge share it).
    func nextArchiveEvent() throws(ArchiveError) -> Event? {
        do {
            return try next()
        } catch {
            throw .io(operation: "walk", path: error.operand, errno: error.errno)
        }
    }
}
