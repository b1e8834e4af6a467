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

use std::any::Any;
use std::ffi::{c_char, c_int, CStr, CString};
use std::mem::{size_of, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::core::{self, Error};

// In the order the header presents them.
pub mod status;
pub mod error;
pub mod config;
pub mod client;
pub mod token;
pub mod token_source;
pub mod observe;

pub use client::vf_client;
pub use config::vf_config;
pub use error::vf_error;
use status::status_of;
pub use status::Status;
pub use token::vf_token;
pub use token_source::vf_token_source;

/// Runs the body of a fallible export. On success `*err_out` (when
/// `err_out` is not NULL) is set to NULL; on failure to a new error object.
/// A panic becomes `VF_STATUS_PANIC`, with the panic's message.
pub(crate) fn boundary(err_out: *mut *mut vf_error, body: impl FnOnce() -> Result<(), Error>) -> Status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panic_error(&*payload)));
    let status = status_of(&outcome);
    // Building the error object allocates; guard that too.
    let stored = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller passes NULL or a pointer it can write to.
        if let Some(err_out) = unsafe { optional_out(err_out) } {
            err_out.write(vf_error::for_outcome(outcome));
        }
    }));
    if stored.is_err() {
        return Status::Panic;
    }
    status
}

/// The longest panic message an error object repeats.
const MAX_PANIC_MESSAGE: usize = 200;

/// The error a caught panic becomes. The panic's own message (ours: the
/// library's code wrote it) is kept, cut to one line of at most
/// [`MAX_PANIC_MESSAGE`] bytes, so that a bug report says where it broke.
fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let said = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    let mut line = said.lines().next().unwrap_or_default();
    if line.len() > MAX_PANIC_MESSAGE {
        let mut end = MAX_PANIC_MESSAGE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line = &line[..end];
    }
    Error::new(
        core::Status::Panic,
        format!("internal error: libvoucherify panicked (a bug: please report it): {line}"),
    )
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
        .map_err(|_| Error::new(core::Status::InvalidUtf8, format!("{name} is not valid UTF-8")))
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

/// A borrowed array argument of `count` elements. With `count` 0 the
/// pointer is not looked at; otherwise NULL is refused, and so is a count
/// whose byte size no array can have (more than `isize::MAX`), which
/// would make the slice undefined behaviour.
///
/// # Safety
/// `ptr` is NULL or points to `count` live elements that outlive `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, count: usize, name: &str) -> Result<&'a [T], Error> {
    if count == 0 {
        return Ok(&[]);
    }
    check_array(ptr, count, name)?;
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// An array of `count` elements that an export writes, as [`slice_arg`]
/// checks it; NULL with `count` > 0 is refused. What the caller's array
/// held before is never read.
///
/// # Safety
/// `ptr` is NULL or points to `count` writable elements used by no one
/// else during `'a`.
pub(crate) unsafe fn slice_out<'a, T>(
    ptr: *mut T,
    count: usize,
    name: &str,
) -> Result<&'a mut [MaybeUninit<T>], Error> {
    if count == 0 {
        return Ok(&mut []);
    }
    check_array(ptr, count, name)?;
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<T>>(), count) })
}

/// Like [`slice_out`], but NULL means the caller does not want it.
///
/// # Safety
/// As for [`slice_out`].
pub(crate) unsafe fn optional_slice_out<'a, T>(
    ptr: *mut T,
    count: usize,
    name: &str,
) -> Result<Option<&'a mut [MaybeUninit<T>]>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        unsafe { slice_out(ptr, count, name) }.map(Some)
    }
}

/// Refuses NULL, and a count whose byte size no array can have.
fn check_array<T>(ptr: *const T, count: usize, name: &str) -> Result<(), Error> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    let fits = count
        .checked_mul(size_of::<T>())
        .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if fits {
        Ok(())
    } else {
        Err(Error::new(
            core::Status::InvalidArgument,
            format!("{name}: {count} elements do not fit in memory"),
        ))
    }
}

/// An `int` argument that names a value of a C enum (`c_enum`, such as
/// `"vf_tls_roots"`), which `from_code` finds; an unknown number is
/// `VF_STATUS_INVALID_ARGUMENT`.
pub(crate) fn enum_arg<T>(code: c_int, c_enum: &str, from_code: impl FnOnce(i64) -> Option<T>) -> Result<T, Error> {
    from_code(code.into())
        .ok_or_else(|| Error::new(core::Status::InvalidArgument, format!("unknown {c_enum} value {code}")))
}

/// An out-pointer argument, checked not NULL; what it pointed to before
/// is never read (C callers often pass uninitialised storage).
///
/// # Safety
/// `out` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn out_arg<'a, T>(out: *mut T, name: &str) -> Result<&'a mut MaybeUninit<T>, Error> {
    unsafe { optional_out(out) }.ok_or_else(|| null_argument(name))
}

/// An out-pointer the caller may pass as NULL, meaning "not wanted".
///
/// # Safety
/// As for [`out_arg`].
pub(crate) unsafe fn optional_out<'a, T>(out: *mut T) -> Option<&'a mut MaybeUninit<T>> {
    unsafe { out.cast::<MaybeUninit<T>>().as_mut() }
}

/// An owned object for the caller, who frees it with [`free_object`]
/// (through the object's `_free` export).
pub(crate) fn into_owned<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Hands an owned object to the caller through a checked out-pointer.
pub(crate) fn write_owned<T>(out: &mut MaybeUninit<*mut T>, value: T) {
    out.write(into_owned(value));
}

/// Hands a string to the caller through a checked out-pointer; the caller
/// frees it with `vf_string_free()`.
pub(crate) fn write_string(out: &mut MaybeUninit<*mut c_char>, s: &str) {
    out.write(c_string(s).into_raw());
}

/// Server text may hold a NUL, which C strings cannot.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Frees an object made by [`into_owned`]; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from [`into_owned`] and was not freed before.
pub(crate) unsafe fn free_object<T>(ptr: *mut T) {
    if !ptr.is_null() {
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Frees a string that libvoucherify returned as owned (`char *`). NULL is
/// accepted and ignored.
///
/// \param string the string to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_string_free(string: *mut c_char) {
    boundary_value((), || {
        if !string.is_null() {
            // SAFETY: the string came from write_string, and is freed once.
            drop(unsafe { CString::from_raw(string) });
        }
    })
}

fn null_argument(name: &str) -> Error {
    Error::new(core::Status::NullArgument, format!("{name} is NULL"))
}

/// Writes `value` into a caller's struct whose first field is its size in
/// bytes (`size_t size`), as far as that size reaches and leaving the
/// size itself alone: a program built against an older, shorter version of
/// the struct gets the fields it knows of, and no byte beyond.
///
/// # Safety
/// `out` is NULL or points to writable storage of at least `out->size`
/// bytes, starting with an initialised `size_t`.
pub(crate) unsafe fn sized_out<T: Copy>(out: *mut T, value: &T, name: &str) -> Result<(), Error> {
    const SIZE_FIELD: usize = size_of::<usize>();
    let size_field = unsafe { ref_arg(out.cast::<usize>().cast_const(), name)? };
    if *size_field < SIZE_FIELD {
        return Err(Error::new(
            core::Status::InvalidArgument,
            format!("{name}->size is {}: set it to the sizeof of the struct", *size_field),
        ));
    }
    let len = (*size_field).min(size_of::<T>()) - SIZE_FIELD;
    // SAFETY: both ranges are `len` bytes past the size field, inside
    // `value` and inside the caller's `size` bytes; they cannot overlap.
    unsafe {
        let from = (value as *const T).cast::<u8>().add(SIZE_FIELD);
        std::ptr::copy_nonoverlapping(from, out.cast::<u8>().add(SIZE_FIELD), len);
    }
    Ok(())
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
        let message = unsafe { CStr::from_ptr(error::vf_error_message(err)) }
            .to_str()
            .unwrap();
        assert!(
            message.ends_with("panicked (a bug: please report it): boom"),
            "{message}"
        );
        unsafe { free_object(err) };
        assert_eq!(boundary_value(7, || -> i32 { panic!("boom") }), 7);
    }

    #[test]
    fn a_panic_message_is_kept_to_one_short_line() {
        let long = format!("{}\nsecond line", "é".repeat(MAX_PANIC_MESSAGE));
        let message = panic_error(&long).message;
        let kept = message.split_once("): ").unwrap().1;
        assert!(
            kept.len() <= MAX_PANIC_MESSAGE && kept.len() >= MAX_PANIC_MESSAGE - 1,
            "{}",
            kept.len()
        );
        assert!(kept.chars().all(|c| c == 'é'), "{kept}");
        let payload: Box<dyn Any + Send> = Box::new(42);
        assert!(panic_error(&*payload).message.ends_with(": no message"));
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
