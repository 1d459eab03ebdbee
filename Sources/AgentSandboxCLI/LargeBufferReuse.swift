import CSandbox

/// Keeps freed large buffers in the process's heap for reuse instead of handing them back to the kernel.
///
/// The preview proxy reads its upstream into buffers of up to 1 MiB and frees each once the client's
/// socket has taken it. With glibc's defaults (large buffers mapped for each allocation until the
/// dynamic threshold rises, and the heap trimmed once twice that threshold lies free at its top) such
/// buffers were mapped or re-grown, their pages faulted in and zeroed, and handed back again: about 8% of the server's CPU time during a bulk
/// download through the proxy (perf: `exc_page_fault`, `clear_page_erms`, `unmap_page_range`), down to
/// about 1.5% with these settings. The cost is at most 32 MiB of free memory kept per malloc arena.
/// Set once, before `serve` starts its threads.
enum LargeBufferReuse {
    static func apply() {
        _ = mallopt(M_MMAP_THRESHOLD, 4 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 32 << 20)
    }
}
