//! The committed header is what cbindgen makes of the sources today, and
//! its version macros equal Cargo.toml's version, its conventions name every
//! object and `_free` function, and VF_NODISCARD turns an ignored status
//! into a compile error under -Werror.
//!
//! `make header` (`VF_BLESS_HEADER=1 cargo test --test header
//! committed_header_is_current`) rewrites it.

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

/// The conventions comment at the top of the header.
fn preamble(header: &str) -> &str {
    let end = header.find("*/").expect("the header starts with a comment");
    &header[..end]
}

fn committed_header() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/voucherify.h")).unwrap()
}

/// The names in `text` that start with `vf_` and end with `suffix` right
/// before `terminator`.
fn names_before(text: &str, terminator: &str, suffix: &str) -> Vec<String> {
    text.split(terminator)
        .filter_map(|before| {
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let name = &before[start..];
            (name.starts_with("vf_") && name.ends_with(suffix)).then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn the_conventions_name_every_free_function_and_object_type() {
    let header = committed_header();
    let preamble = preamble(&header);
    let declarations = &header[preamble.len()..];
    let frees: Vec<String> = declarations
        .lines()
        .filter_map(|l| l.strip_prefix("void "))
        .flat_map(|l| names_before(l, "(", "_free"))
        .collect();
    let objects: Vec<String> = declarations
        .lines()
        .filter_map(|l| l.strip_prefix("typedef struct "))
        .filter_map(|l| l.split(' ').next())
        // The opaque objects; `typedef struct {` opens a plain data struct.
        .filter(|name| name.starts_with("vf_"))
        .map(str::to_owned)
        .filter(|name| name != "{")
        // A struct with fields is `typedef struct {` ... `} name;`.
        .chain(declarations.split("typedef struct {").skip(1).filter_map(|rest| {
            let name = rest.split("\n} ").nth(1)?.split(';').next()?;
            Some(name.to_owned())
        }))
        .collect();
    assert!(frees.len() >= 6 && objects.len() >= 5, "{frees:?} {objects:?}");
    for name in frees.iter().chain(&objects) {
        assert!(
            preamble
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == name),
            "the conventions at the top of the header (cbuild.toml) do not name {name}"
        );
    }
}

/// `major * 10000 + minor * 100 + patch`, the encoding of VF_VERSION_NUMBER.
fn version_number(major: u32, minor: u32, patch: u32) -> u32 {
    major * 10000 + minor * 100 + patch
}

fn version_part(s: &str) -> u32 {
    s.parse().unwrap()
}

#[test]
fn version_number_macros_match_cargo_toml_build_rs_and_the_library() {
    let header = committed_header();
    let (major, minor, patch) = (
        version_part(env!("CARGO_PKG_VERSION_MAJOR")),
        version_part(env!("CARGO_PKG_VERSION_MINOR")),
        version_part(env!("CARGO_PKG_VERSION_PATCH")),
    );
    let number = version_number(major, minor, patch);
    assert!(
        header.contains(&format!("#define VF_VERSION_NUMBER {number}\n")),
        "VF_VERSION_NUMBER != {number}"
    );
    assert_eq!(voucherify::ffi::status::vf_version_number(), number);
    // build.rs writes the SONAME's number once, as `const ABI_VERSION: u32 = N;`.
    let build_rs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs")).unwrap();
    let abi_version = build_rs
        .lines()
        .find_map(|l| l.strip_prefix("const ABI_VERSION: u32 = "))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("build.rs defines ABI_VERSION");
    assert!(
        header.contains(&format!("#define VF_SONAME_VERSION {abi_version}\n")),
        "VF_SONAME_VERSION != ABI_VERSION {abi_version} of build.rs"
    );
    // What the macro computes, by the compiler: this version and earlier
    // ones pass, the next patch, minor and major do not.
    let at_least = |(a, b, c): (u32, u32, u32), expected: bool| {
        let bang = if expected { "" } else { "!" };
        format!("_Static_assert({bang}VF_AT_LEAST_VERSION({a}, {b}, {c}), \"{a}.{b}.{c}\");\n")
    };
    let mut checks = format!("_Static_assert(VF_VERSION_NUMBER == {number}, \"number\");\n");
    checks += &at_least((major, minor, patch), true);
    checks += &at_least((0, 0, 0), true);
    checks += &at_least((major, minor, patch + 1), false);
    checks += &at_least((major, minor + 1, 0), false);
    checks += &at_least((major + 1, 0, 0), false);
    let (ok, stderr) = compile_c(&checks, &[]);
    assert!(ok, "{stderr}");
}

/// Compiles `body` after `#include "voucherify.h"` as C11, without linking.
fn compile_c(body: &str, flags: &[&str]) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("vf-header-{}-{}", std::process::id(), body.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("probe.c");
    std::fs::write(&source, format!("#include \"voucherify.h\"\n{body}")).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let output = std::process::Command::new(&cc)
        // Compiled, not only parsed: GCC reports unused results as it
        // translates, after -fsyntax-only would have stopped.
        .args(["-std=c11", "-Wall", "-c", "-o"])
        .arg(dir.join("probe.o"))
        .arg("-I")
        .arg(root.join("include"))
        .args(flags)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("{cc} does not run: {e}"));
    std::fs::remove_dir_all(&dir).ok();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_ignored_status_or_new_object_fails_to_compile_with_warnings_as_errors() {
    let config = cbindgen::Config::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("cbuild.toml")).unwrap();
    assert_eq!(config.function.must_use.as_deref(), Some("VF_NODISCARD"));
    assert_eq!(
        config.function.deprecated_with_note.as_deref(),
        Some("VF_DEPRECATED({})")
    );
    let strict = ["-Werror=unused-result", "-Werror=deprecated-declarations"];
    let checked = "int main(void) {\n  vf_config *c = vf_config_new();\n  \
                   int failed = vf_config_set_app_id(c, \"id\", NULL) != VF_STATUS_OK;\n  \
                   vf_config_free(c);\n  return failed;\n}\n";
    let (ok, stderr) = compile_c(checked, &strict);
    assert!(ok, "a program that checks every status does not compile:\n{stderr}");
    for ignored in [
        "vf_config_set_app_id(c, \"id\", NULL);",
        "vf_client_cancel(NULL, NULL);",
        "vf_config_new();",
    ] {
        let body = format!("int main(void) {{\n  vf_config *c = NULL;\n  {ignored}\n  return c != NULL;\n}}\n");
        let (ok, stderr) = compile_c(&body, &strict);
        assert!(
            !ok && stderr.contains("unused-result"),
            "`{ignored}` compiled:\n{stderr}"
        );
    }
    // The deprecation macro, ready for the day a function goes.
    let body = "VF_DEPRECATED(\"use vf_new_thing\") void vf_old_thing(void);\n\
                int main(void) { vf_old_thing(); return 0; }\n";
    let (ok, stderr) = compile_c(body, &strict);
    assert!(!ok && stderr.contains("use vf_new_thing"), "{stderr}");
}
