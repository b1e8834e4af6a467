//! The committed header is what cbindgen makes of the sources today, and
//! its version macros equal Cargo.toml's version.
//!
//! `VF_BLESS_HEADER=1 cargo test --test header` (or `make header`) rewrites it.

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbuild.toml")).expect("cbuild.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/voucherify.h");
    let fresh = generate();
    if std::env::var_os("VF_BLESS_HEADER").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/voucherify.h is stale: run `make header` and commit it"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/voucherify.h")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        header.contains(&format!("#define VF_VERSION \"{version}\"")),
        "VF_VERSION != {version}"
    );
    for (name, value) in ["MAJOR", "MINOR", "PATCH"].iter().zip(parts) {
        assert!(
            header.contains(&format!("#define VF_VERSION_{name} {value}\n")),
            "VF_VERSION_{name} != {value}"
        );
    }
}
