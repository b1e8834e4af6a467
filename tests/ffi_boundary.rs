//! The C layer's two rules, read from its sources, and its argument checks
//! through the real exports:
//! - every C export runs inside the panic boundary: each `extern "C" fn`
//!   in src/ffi hands its whole body to `boundary`, `boundary_value` or
//!   `field` (which wraps `boundary_value`), and is `#[no_mangle]` with a
//!   `vf_` name, and `#[must_use]` if it returns a status or a new object;
//! - no export touches a raw pointer itself: NULL checks, boxing, array
//!   and string conversions are the checked helpers of src/ffi/mod.rs.

mod common;

use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};
use std::ptr;

use vf_standin::Options;
use voucherify::ffi::client::{vf_client_free, vf_client_new, vf_revoke_tokens};
use voucherify::ffi::config::{
    vf_config_free, vf_config_new, vf_config_set_app_id, vf_config_set_base_url, vf_config_set_secret_key,
};
use voucherify::ffi::error::{vf_error_free, vf_error_message};
use voucherify::ffi::{vf_client, Status};

fn ffi_sources() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut sources: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            (path, source)
        })
        .collect();
    sources.sort();
    assert!(sources.len() >= 7, "src/ffi holds only {} files", sources.len());
    sources
}

#[test]
fn every_export_runs_inside_the_panic_boundary() {
    let mut exports = 0;
    for (path, source) in ffi_sources() {
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("extern \"C\" fn ") {
                continue;
            }
            exports += 1;
            let name = line.split("fn ").nth(1).unwrap().split('(').next().unwrap();
            assert!(
                name.starts_with("vf_"),
                "{}: {name} lacks the vf_ prefix",
                path.display()
            );
            let attributes: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#["))
                .collect();
            assert!(attributes.contains(&"#[no_mangle]"), "{name} is not #[no_mangle]");
            let open = (i..lines.len()).find(|&j| lines[j].trim_end().ends_with('{')).unwrap();
            // A status to check or a new object to free: VF_NODISCARD in C.
            let signature = lines[i..=open].concat();
            if signature.contains("-> Status") || signature.contains("-> *mut") {
                assert!(attributes.contains(&"#[must_use]"), "{name} is not #[must_use]");
            }
            // The body: from the line after the signature's `{` to the first
            // statement, skipping SAFETY comments.
            let first = lines[open + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.starts_with("//"))
                .unwrap();
            assert!(
                ["boundary(", "boundary_value(", "field("]
                    .iter()
                    .any(|b| first.starts_with(b)),
                "{name} does not start with the panic boundary: {first}"
            );
        }
    }
    assert!(exports >= 20, "found only {exports} exports");
}

/// What only the helpers of src/ffi/mod.rs may write: each is a raw
/// pointer handled by hand, which the helpers check once for everyone.
const RAW_POINTER_WORK: [&str; 9] = [
    "is_null()",
    "Box::into_raw",
    "Box::from_raw",
    "from_raw_parts",
    "into_raw()",
    "CString::from_raw",
    ".as_mut()",
    ".add(",
    ".offset(",
];

#[test]
fn no_export_touches_raw_pointers_itself() {
    let mut offences = Vec::new();
    for (path, source) in ffi_sources() {
        if path.ends_with("mod.rs") {
            continue;
        }
        for (n, line) in source.lines().enumerate() {
            for pattern in RAW_POINTER_WORK {
                if line.contains(pattern) {
                    offences.push(format!("{}:{}: {pattern}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "use the helpers of src/ffi/mod.rs instead:\n{}",
        offences.join("\n")
    );
    // The scan would see them: the helpers themselves do this work.
    let helpers = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi/mod.rs")).unwrap();
    for pattern in ["is_null()", "Box::into_raw", "from_raw_parts"] {
        assert!(helpers.contains(pattern), "src/ffi/mod.rs no longer has {pattern}");
    }
}

/// A C client of the stand-in, made through the exports.
fn c_client(base_url: &str, app_id: &str, secret_key: &str) -> *mut vf_client {
    unsafe {
        let config = vf_config_new();
        for (set, value) in [
            (vf_config_set_app_id as unsafe extern "C" fn(_, _, _) -> Status, app_id),
            (vf_config_set_secret_key, secret_key),
            (vf_config_set_base_url, base_url),
        ] {
            let value = CString::new(value).unwrap();
            assert_eq!(set(config, value.as_ptr(), ptr::null_mut()), Status::Ok);
        }
        let mut client = ptr::null_mut();
        assert_eq!(vf_client_new(config, &mut client, ptr::null_mut()), Status::Ok);
        vf_config_free(config);
        client
    }
}

#[test]
fn an_array_count_larger_than_memory_is_refused_and_nothing_is_sent() {
    let server = common::standin(Options::default());
    let client = c_client(&server.base_url(), server.app_id(), server.secret_key());
    let token = CString::new(server.mint_token("api")).unwrap();
    let tokens = [token.as_ptr()];
    // The first count whose byte size passes isize::MAX, where a slice
    // would be undefined behaviour, and the largest count of all.
    let too_many = isize::MAX as usize / size_of::<*const c_char>() + 1;
    let sentinel = Status::Internal;
    for count in [too_many, usize::MAX] {
        let mut statuses = [sentinel];
        let mut err = ptr::null_mut();
        let status = unsafe {
            vf_revoke_tokens(
                client,
                tokens.as_ptr(),
                count,
                1,
                statuses.as_mut_ptr(),
                ptr::null_mut(),
                &mut err,
            )
        };
        assert_eq!(status, Status::InvalidArgument, "count {count}");
        let message = unsafe { std::ffi::CStr::from_ptr(vf_error_message(err)) };
        assert!(message.to_str().unwrap().contains("tokens"), "{message:?}");
        unsafe { vf_error_free(err) };
        assert_eq!(statuses, [sentinel], "no outcome is written");
    }
    assert_eq!(server.request_count(), 0, "nothing was sent");

    // The same call with the true count sends the one request.
    let mut statuses = [sentinel];
    let status = unsafe {
        vf_revoke_tokens(
            client,
            tokens.as_ptr(),
            1,
            1,
            statuses.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!((status, statuses), (Status::Ok, [Status::Ok]));
    assert_eq!(server.request_count(), 1);
    unsafe { vf_client_free(client) };
}

/// The panic boundary needs unwinding: a build with `panic = "abort"`
/// must not compile. Proving it by building would take minutes (every
/// dependency again, with other flags), so this reads the guard; it was
/// seen to work with `RUSTFLAGS=-Cpanic=abort cargo check --lib` (error:
/// "libvoucherify must be built with panic = \"unwind\" ...").
#[test]
fn a_build_with_panic_abort_fails_to_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    let guard = lines.iter().position(|l| *l == "#[cfg(panic = \"abort\")]");
    let guarded = guard.and_then(|i| lines.get(i + 1));
    assert!(
        guarded.is_some_and(|l| l.starts_with("compile_error!(")),
        "src/lib.rs lacks `#[cfg(panic = \"abort\")] compile_error!(...)`"
    );
    assert!(
        lib.contains("panic = \\\"unwind\\\""),
        "the error does not say what to do"
    );
    // And no profile of ours asks for abort.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("panic = \"abort\""),
        "Cargo.toml sets panic = \"abort\""
    );
}
