//! Heap upkeep for a long-running server. glibc's allocator keeps what the
//! program frees on its arenas' free lists, and gives pages back to the
//! operating system only from the top of an arena. After a burst (hundreds of
//! connections each growing their buffers for large messages, then going
//! quiet) the server would stay resident at its peak although the memory is
//! free. [`release_free_memory`] asks glibc for those pages back
//! (`malloc_trim`). While the server is busy, the opposite is wanted:
//! [`keep_freed_memory_for_reuse`] stops glibc from giving the top of an arena
//! back at every free (`mallopt`). Elsewhere both do nothing: other allocators
//! manage this on their own or have no such calls.
//!
//! This crate holds the only `unsafe` the server needs, so that `gannet-server`
//! can forbid it.
#![deny(unsafe_code)]

/// Gives free heap pages back to the operating system; returns whether any
/// were. It walks and locks every arena in turn, so allocations on other
/// threads wait while it runs: call it from a blocking thread, after activity
/// has died down, not on a hot path.
pub fn release_free_memory() -> bool {
    imp::release_free_memory()
}

/// Makes the allocator keep what is freed for reuse instead of giving it
/// back to the operating system at every free, and serve blocks under
/// 128 KiB (a 64 KiB message copy) from its heap, larger ones (grown read
/// buffers) from mappings of their own, which go back whole when freed
/// (without the fixed threshold glibc raises it as such mappings are freed,
/// up to 32 MiB, and they stay in the heap after a burst). By default glibc
/// returns the top of an arena as soon as 128 KiB of it is free: a server
/// that frees a 64 KiB message copy and makes the next a moment later then
/// has every page of it faulted in and zeroed by the kernel again (2 million
/// page faults for 60,000 messages of 64 KiB). [`release_free_memory`] still
/// gives freed pages back once the server goes quiet. Call it once, at
/// start; returns whether the allocator took the settings.
pub fn keep_freed_memory_for_reuse() -> bool {
    imp::keep_freed_memory_for_reuse()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    /// Free bytes at the top of an arena before glibc gives them back by itself.
    const TRIM_THRESHOLD: libc::c_int = 64 << 20;
    /// Blocks from this size on get a mapping of their own.
    const MMAP_THRESHOLD: libc::c_int = 128 << 10;

    #[allow(unsafe_code)]
    pub fn keep_freed_memory_for_reuse() -> bool {
        // SAFETY: mallopt takes two plain integers and changes only the
        // allocator's own parameters, under its own lock; it has no
        // requirement on the caller.
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        }
    }

    #[allow(unsafe_code)]
    pub fn release_free_memory() -> bool {
        // SAFETY: malloc_trim takes a plain size and touches only the
        // allocator's own state, under the allocator's own locks; it has no
        // requirement on the caller. A pad of 0 keeps nothing spare at the top.
        unsafe { libc::malloc_trim(0) != 0 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn keep_freed_memory_for_reuse() -> bool {
        false
    }

    pub fn release_free_memory() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    /// Freed message-sized blocks stay resident for the next allocations
    /// once the allocator keeps freed memory (by default the top of the heap
    /// goes back as soon as 128 KiB of it is free); a block from the mapping
    /// threshold on goes back when freed. (Giving kept blocks back is the
    /// next test's.)
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn small_blocks_are_kept_for_reuse_and_big_ones_go_back() {
        assert!(super::keep_freed_memory_for_reuse());
        let big = std::hint::black_box(vec![7u8; 8 << 20]);
        let with_big = resident_kib();
        drop(big);
        let without = resident_kib();
        assert!(
            without + 4 * 1024 < with_big,
            "resident {with_big} KiB with an 8 MiB block, {without} KiB after freeing it"
        );
        let blocks: Vec<Vec<u8>> = (0..128)
            .map(|i| std::hint::black_box(vec![i as u8; 64 << 10]))
            .collect();
        let full = resident_kib();
        drop(std::hint::black_box(blocks));
        let freed = resident_kib();
        assert!(
            freed + 4 * 1024 > full,
            "resident {full} KiB with the blocks, {freed} KiB after freeing them"
        );
    }

    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Memory freed in the middle of the heap, pinned there by a live block
    /// above it, stays resident until it is released.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_below_a_live_block_is_given_back() {
        // Blocks below the allocator's mmap threshold come from the heap;
        // black_box keeps the compiler from leaving out allocations never read.
        let blocks: Vec<Vec<u8>> = (0..2048).map(|i| vec![i as u8; 16 * 1024]).collect();
        let pin = std::hint::black_box(vec![1u8; 1024]);
        let full = resident_kib();
        drop(std::hint::black_box(blocks));
        let freed = resident_kib();
        assert!(super::release_free_memory(), "nothing was released");
        let released = resident_kib();
        assert!(
            released + 16 * 1024 < freed,
            "resident {full} KiB full, {freed} KiB freed, {released} KiB released"
        );
        drop(pin);
    }
}
