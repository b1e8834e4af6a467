//! Gives the shared library its SONAME: the ABI version, which changes only
//! when a change breaks binaries linked against an older build.
//!
//! `ABI_VERSION` is the one place the ABI number is written: mk/install.mk
//! reads it from the line below for the file names it installs.
//!
//! No linker version script is passed here, on purpose. For a cdylib rustc
//! already writes its own anonymous one (`{ global: <each #[no_mangle]
//! extern fn>; local: *; }`), so only the C API is exported. A second
//! script cannot add to it: rust-lld (rustc's default linker on
//! x86_64-linux since 1.90) silently ignores the second script's version
//! node for every symbol the first one names, and GNU ld refuses the pair
//! ("anonymous version tag cannot be combined with other version tags").
//! tests/install/symbols.sh checks that the exports are exactly the
//! functions of include/voucherify.h.

const ABI_VERSION: u32 = 0;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvoucherify.so.{ABI_VERSION}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
