//! The allocator of Rust's own allocations: mimalloc, asked for an alignment only when a
//! layout needs more than every block has anyway.
//!
//! A document is built from a few dozen small strings and vectors and dropped at once, per
//! message: glibc's malloc spent about a quarter of the time on that (consolidating freed
//! chunks); mimalloc's per-size free lists do not. The `mimalloc` crate's allocator passes
//! every layout's alignment to `mi_malloc_aligned`, whose fast path needs a free block that
//! happens to be aligned in the size's page; otherwise it over-allocates (6 % of the core's
//! instructions went there). Every mimalloc block is at least pointer-aligned (block sizes
//! are whole words, from a word-aligned start), so a layout asking for no more takes the
//! plain `mi_malloc` path.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every mimalloc block has: a pointer's.
const ALIGNED: usize = std::mem::size_of::<usize>();

pub struct Allocator;

// SAFETY: each method forwards to the mimalloc call of the same contract (a block of at least
// `size` bytes aligned to `layout.align()`, or null); blocks from either path are freed and
// resized by mimalloc alike, whatever their alignment.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        // SAFETY: mimalloc's allocation calls take any size and a power-of-two alignment.
        unsafe {
            if layout.align() <= ALIGNED {
                mi::mi_malloc(size).cast()
            } else {
                mi::mi_malloc_aligned(size, layout.align()).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        // SAFETY: as `alloc`.
        unsafe {
            if layout.align() <= ALIGNED {
                mi::mi_zalloc(size).cast()
            } else {
                mi::mi_zalloc_aligned(size, layout.align()).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator; its alignment is kept as `alloc` chose it.
        unsafe {
            if layout.align() <= ALIGNED {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}
