//! The C API: a thin layer over [`crate::core`].
//!
//! Every export runs its body through [`boundary`] or [`boundary_value`], so
//! that a panic never unwinds into C, and converts its arguments with the
//! checked helpers below. A test reads these files to hold every export to
//! that rule.

#![allow(non_camel_case_types)]
// The pointer rules of every export are stated once, in the header's
// conventions (cbuild.toml), rather than in a `# Safety` section each.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::core::{Error, Status};

// In the order the header presents them.
pub mod status;
pub mod error;
pub mod config;
pub mod client;
pub mod token;
pub mod token_source;

pub use client::vf_client;
pub use config::vf_config;
pub use error::vf_error;
pub use token::vf_token;
pub use token_source::vf_token_source;

/// Runs the body of a fallible export. On success `*err_out` (when
/// `err_out` is not NULL) is set to NULL; on failure to a new error object.
/// A panic becomes `VF_STATUS_PANIC`.
pub(crate) fn boundary(err_out: *mut *mut vf_error, body: impl FnOnce() -> Result<(), Error>) -> Status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Error::new(
            Status::Panic,
            "internal error: libvoucherify panicked (a bug: please report it)",
        ))
    });
    let status = match &outcome {
        Ok(()) => Status::Ok,
        Err(e) => e.status,
    };
    // Building the error object allocates; guard that too.
    let stored = catch_unwind(AssertUnwindSafe(|| {
        if !err_out.is_null() {
            let object = outcome.err().map_or(std::ptr::null_mut(), vf_error::into_raw);
            // SAFETY: the caller passes NULL or a pointer it can write to.
            unsafe { *err_out = object };
        }
    }));
    if stored.is_err() {
        return Status::Panic;
    }
    status
}

/// Runs the body of an export that returns a plain value, giving
/// `on_panic` if it panics.
pub(crate) fn boundary_value<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// Reads a field of an object for an accessor export; NULL gives
/// `on_null`, as does a panic.
pub(crate) fn field<O, T: Copy>(object: *const O, on_null: T, read: impl FnOnce(&O) -> T) -> T {
    // SAFETY: the caller passes NULL or a live object.
    boundary_value(on_null, || unsafe { object.as_ref() }.map_or(on_null, read))
}

/// A borrowed, NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| Error::new(Status::InvalidUtf8, format!("{name} is not valid UTF-8")))
}

/// Like [`str_arg`], but NULL means "none".
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn optional_str_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// A borrowed object argument.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a`.
pub(crate) unsafe fn ref_arg<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// A mutably borrowed object argument.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` used by no one else during `'a`.
pub(crate) unsafe fn mut_arg<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    unsafe { ptr.as_mut() }.ok_or_else(|| null_argument(name))
}

/// An out-pointer argument, checked not NULL.
///
/// # Safety
/// `out` is NULL or points to writable storage for a pointer.
pub(crate) unsafe fn out_arg<'a, T>(out: *mut *mut T, name: &str) -> Result<&'a mut *mut T, Error> {
    unsafe { out.as_mut() }.ok_or_else(|| null_argument(name))
}

/// Hands an owned object to the caller through a checked out-pointer.
pub(crate) fn write_out<T>(out: &mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

/// Server text may hold a NUL, which C strings cannot.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Frees an object made by [`write_out`]; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from [`write_out`] and was not freed before.
pub(crate) unsafe fn free_object<T>(ptr: *mut T) {
    if !ptr.is_null() {
        drop(unsafe { Box::from_raw(ptr) });
    }
}

fn null_argument(name: &str) -> Error {
    Error::new(Status::NullArgument, format!("{name} is NULL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_panic_status_with_an_error_object() {
        let mut err: *mut vf_error = std::ptr::null_mut();
        let status = boundary(&mut err, || panic!("boom"));
        assert_eq!(status, Status::Panic);
        assert!(!err.is_null());
        assert_eq!(unsafe { error::vf_error_status(err) }, Status::Panic);
        unsafe { free_object(err) };
        assert_eq!(boundary_value(7, || -> i32 { panic!("boom") }), 7);
    }

    #[test]
    fn success_clears_the_error_out_pointer() {
        let mut err: *mut vf_error = std::ptr::dangling_mut();
        assert_eq!(boundary(&mut err, || Ok(())), Status::Ok);
        assert!(err.is_null());
        assert_eq!(
            boundary(std::ptr::null_mut(), || Err(null_argument("x"))),
            Status::NullArgument
        );
    }
}
