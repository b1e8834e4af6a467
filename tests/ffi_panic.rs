//! A panic inside the library reaches C as VF_STATUS_PANIC, through the
//! real exports. Needs the test-panic feature:
//! `cargo test --features test-panic --test ffi_panic`.
#![cfg(feature = "test-panic")]

use std::ffi::{CStr, CString};
use std::ptr;

use vf_standin::{Options, StandIn};
use voucherify::ffi::client::{vf_client_free, vf_client_new, vf_revoke_token, vf_revoke_tokens};
use voucherify::ffi::config::{
    vf_config_free, vf_config_new, vf_config_set_app_id, vf_config_set_base_url, vf_config_set_secret_key,
};
use voucherify::ffi::error::{vf_error_free, vf_error_message, vf_error_status};
use voucherify::ffi::{vf_client, Status};

fn client() -> *mut vf_client {
    // Nothing is sent: the panic comes before any request.
    client_at("http://127.0.0.1:9")
}

fn client_at(base_url: &str) -> *mut vf_client {
    unsafe {
        let config = vf_config_new();
        let set = |f: unsafe extern "C" fn(_, _, _) -> Status, v: &str| {
            let v = CString::new(v).unwrap();
            assert_eq!(f(config, v.as_ptr(), ptr::null_mut()), Status::Ok);
        };
        set(vf_config_set_app_id, "id");
        set(vf_config_set_secret_key, "key");
        set(vf_config_set_base_url, base_url);
        let mut client = ptr::null_mut();
        assert_eq!(vf_client_new(config, &mut client, ptr::null_mut()), Status::Ok);
        vf_config_free(config);
        client
    }
}

#[test]
fn a_panic_becomes_the_panic_status() {
    let server = StandIn::start(Options {
        app_id: "id".to_string(),
        secret_key: "key".to_string(),
        ..Options::default()
    })
    .unwrap();
    let client = client_at(&server.base_url());
    let token = CString::new("vf-test-panic").unwrap();
    unsafe {
        let mut err = ptr::null_mut();
        assert_eq!(vf_revoke_token(client, token.as_ptr(), &mut err), Status::Panic);
        assert_eq!(vf_error_status(err), Status::Panic);
        let message = CStr::from_ptr(vf_error_message(err)).to_str().unwrap();
        assert!(message.contains("panicked"), "{message}");
        // The panic's own message says where it broke.
        assert!(message.ends_with(": forced by the test-panic feature"), "{message}");
        vf_error_free(err);

        assert_eq!(server.request_count(), 0, "the panic came before any request");

        // The client still works after a caught panic: it revokes for real.
        let live = CString::new(server.mint_token("api")).unwrap();
        assert_eq!(vf_revoke_token(client, live.as_ptr(), ptr::null_mut()), Status::Ok);
        assert_eq!(
            vf_revoke_token(client, live.as_ptr(), ptr::null_mut()),
            Status::TokenNotFound
        );
        assert_eq!(server.request_count(), 2);
        vf_client_free(client);
    }
}

#[test]
fn a_panic_in_a_bulk_worker_is_that_tokens_outcome() {
    let client = client();
    let tokens = [CString::new("vf-test-panic").unwrap(), CString::new("").unwrap()];
    let pointers: Vec<_> = tokens.iter().map(|t| t.as_ptr()).collect();
    let mut statuses = [Status::Ok; 2];
    unsafe {
        let status = vf_revoke_tokens(
            client,
            pointers.as_ptr(),
            2,
            1,
            statuses.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        );
        assert_eq!(status, Status::Ok);
        assert_eq!(statuses, [Status::Panic, Status::InvalidArgument]);
        vf_client_free(client);
    }
}
