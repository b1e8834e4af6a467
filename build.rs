//! Gives the shared library its SONAME: the ABI version, which changes only
//! when a change breaks binaries linked against an older build.

const ABI_VERSION: u32 = 0;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvoucherify.so.{ABI_VERSION}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
