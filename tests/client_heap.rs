//! What an idle client holds on the heap, broken down, and what a client
//! with a pooled connection holds. Prints the figures (`--nocapture`) and
//! holds each further client under 64 KiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

mod common;

use common::single_attempt_config;
use vf_standin::Options;
use voucherify::Client;

/// Counts the bytes in use, whoever allocates them.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes still held after `make` returns, with what it made alive.
fn held<T>(make: impl FnOnce() -> T) -> (isize, T) {
    let before = IN_USE.load(Ordering::Relaxed);
    let made = make();
    (IN_USE.load(Ordering::Relaxed) - before, made)
}

#[test]
fn an_idle_client_is_small_and_further_clients_share_the_trust_store() {
    // The test runs alone in its binary, but the stand-in's thread
    // allocates too: measure with it idle.
    let server = common::standin(Options::default());
    let config = single_attempt_config(&server);
    let mut https = config.clone();
    https.set_base_url("https://api.voucherify.io").unwrap();

    let (agent, bare_agent) = held(|| ureq::Agent::new_with_config(ureq::Agent::config_builder().build()));
    let (first_https, first) = held(|| Client::new(&https).unwrap());
    let (further_https, further) = held(|| Client::new(&https).unwrap());
    let (plain, idle) = held(|| Client::new(&config).unwrap());
    let token = server.mint_token("api");
    let (after_call, ()) = held(|| assert!(idle.revoke_token(&token).is_ok()));

    println!("heap held, in bytes:");
    println!("  a bare ureq agent (default config):             {agent:>8}");
    println!("  first https client (loads the system store):    {first_https:>8}");
    println!("  each further https client (store shared):       {further_https:>8}");
    println!("  a plain-http client (no store):                 {plain:>8}");
    println!("  its pooled connection and buffers after a call: {after_call:>8}  (also the stand-in's log entry)");
    assert!(
        further_https < 64 * 1024,
        "a further client holds {further_https} bytes"
    );
    assert!(first_https > further_https, "the store is loaded once");
    assert!(after_call < 128 * 1024, "a pooled connection holds {after_call} bytes");
    drop((bare_agent, first, further));
}
