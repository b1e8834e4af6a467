//! Version and status names.

use std::ffi::{c_char, c_int, CStr};

use super::boundary_value;
use crate::core::{Status, VERSION};

const VERSION_C: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("the crate version contains a NUL"),
};
const _: () = assert!(VERSION_C.count_bytes() == VERSION.len());

/// The library's version, such as `"0.1.0"`: a static string, never freed.
/// It equals `VF_VERSION` in the header the program was built with, unless
/// the program runs against another build of the library.
///
/// \return the version, such as `"0.1.0"`
#[no_mangle]
pub extern "C" fn vf_version() -> *const c_char {
    boundary_value(c"".as_ptr(), || VERSION_C.as_ptr())
}

/// The name of a status, such as `"VF_STATUS_TIMEOUT"`, for any `int`
/// (values this version does not know give `"VF_STATUS_UNKNOWN"`). A static
/// string, never freed, never NULL.
///
/// \param status any value, a `vf_status` or not
/// \return the status's name
#[no_mangle]
pub extern "C" fn vf_status_str(status: c_int) -> *const c_char {
    boundary_value(c"VF_STATUS_UNKNOWN".as_ptr(), || {
        Status::from_code(status.into())
            .map_or(c"VF_STATUS_UNKNOWN", Status::c_name)
            .as_ptr()
    })
}
