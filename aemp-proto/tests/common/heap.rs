//! A global allocator that counts the live heap bytes of each thread, so that a test can
//! measure the most memory an operation held at once (its peak), not only what it kept.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting per thread. Install with `#[global_allocator]`.
pub struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: the counters may be gone while the thread exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed on to `System` unchanged; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller promised for `layout`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller promised for `layout`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Heap bytes this thread holds now.
pub fn live() -> usize {
    LIVE.with(|l| l.get()).max(0) as usize
}

/// Runs `f`; returns its result, the most heap bytes this thread held at once during it
/// beyond what it held before, and what it still held afterwards beyond that.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let before = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(before));
    let out = f();
    let peak = PEAK.with(|p| p.get()) - before;
    let kept = LIVE.with(|l| l.get()) - before;
    (
        out,
        Usage {
            peak: peak.max(0) as usize,
            kept: kept.max(0) as usize,
        },
    )
}

/// What [`measure`] found.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// The most bytes held at once.
    pub peak: usize,
    /// Bytes still held at the end.
    pub kept: usize,
}
