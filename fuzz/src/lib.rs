//! The bodies of the fuzz targets. Each takes arbitrary bytes and panics
//! only when libvoucherify misbehaves.
//!
//! Kept free of libFuzzer so that `tests/properties.rs` can include this
//! file and run the same checks over random inputs in a plain `cargo test`.

use std::ffi::{c_char, CStr, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ptr::null_mut;
use std::sync::OnceLock;

use voucherify::core::ApiErrorBody;
use voucherify::ffi::client::{vf_client_free, vf_client_new};
use voucherify::ffi::config::*;
use voucherify::ffi::error::{vf_error_free, vf_error_message};
use voucherify::ffi::{vf_client, vf_error, Status as CStatus};
use voucherify::{Client, Config, Error, Introspection, Status};

/// `MAX_FIELD_LEN` in src/core/error.rs: the most of a server string kept.
const MAX_FIELD: usize = 512;
/// An error message is a short prefix plus at most five bounded fields.
const MAX_MESSAGE: usize = 6 * MAX_FIELD + 128;

/// Error bodies: parsing never panics, and what the server said is kept
/// only in bounded pieces, so a hostile body cannot flood a log line.
pub fn error_body(data: &[u8]) {
    let parsed = ApiErrorBody::parse(data);
    if let Some(body) = &parsed {
        let fields = [
            &body.key,
            &body.message,
            &body.details,
            &body.request_id,
            &body.custom_message,
        ];
        for field in fields.into_iter().flatten() {
            assert!(field.len() <= MAX_FIELD, "a field of {} bytes was kept", field.len());
        }
    }
    // Vary the HTTP status with the input, so every mapping is exercised.
    let http_status = 300 + (data.len() % 300) as u16;
    let status = Status::for_http_status(http_status);
    assert_ne!(status, Status::Ok);
    let error = Error::from_http(status, "revoke", http_status, data);
    assert_eq!((error.status, error.http_status), (status, http_status));
    assert!(
        error.message.len() <= MAX_MESSAGE,
        "a message of {} bytes",
        error.message.len()
    );
    if parsed.is_none() {
        // Bytes that are not a JSON object never reach the message.
        let bare = format!("revoke: HTTP {http_status}");
        let noted = format!("{bare} (the body was not a Voucherify JSON error)");
        assert!(error.message == bare || error.message == noted, "{:?}", error.message);
    }
    let _ = error.to_string();
}

/// The configuration setters and `vf_client_new`, called the way C calls
/// them. The input is split at NUL bytes into fields (so each is a valid C
/// string, UTF-8 or not); a field's first byte picks the setter and the
/// rest is its argument. Nothing is ever sent.
pub fn config_inputs(data: &[u8]) {
    unsafe {
        let config = vf_config_new();
        assert!(!config.is_null());
        let mut fields = data.split(|&b| b == 0);
        while let Some(field) = fields.next() {
            let Some((&pick, arg)) = field.split_first() else {
                continue;
            };
            let value = CString::new(arg).expect("split at NUL");
            let v = value.as_ptr();
            let mut err: *mut vf_error = null_mut();
            let e = &mut err as *mut *mut vf_error;
            // Per setter: its status, and the header values it let through.
            let (status, sent_as_headers): (CStatus, Vec<&[u8]>) = match pick % 12 {
                0 => (vf_config_set_app_id(config, v, e), vec![arg]),
                1 => (vf_config_set_secret_key(config, v, e), vec![arg]),
                2 => (vf_config_set_channel(config, v, e), vec![arg]),
                3 => (vf_config_set_user_agent_suffix(config, v, e), vec![arg]),
                4 => {
                    // The value is the next field, so both halves are arbitrary.
                    let next = fields.next().unwrap_or_default();
                    let header_value = CString::new(next).expect("split at NUL");
                    (
                        vf_config_add_header(config, v, header_value.as_ptr(), e),
                        vec![arg, next],
                    )
                }
                5 => (vf_config_set_base_url(config, v, e), vec![]),
                6 => (vf_config_set_cluster(config, v, e), vec![]),
                7 => (vf_config_set_proxy(config, v, e), vec![]),
                8 => (vf_config_set_channel(config, std::ptr::null(), e), vec![]),
                9 => (vf_config_set_user_agent_suffix(config, std::ptr::null(), e), vec![]),
                10 => (vf_config_set_proxy(config, std::ptr::null(), e), vec![]),
                _ => (vf_config_set_allow_insecure_http(config, pick & 0x10 != 0, e), vec![]),
            };
            check_outcome(
                status,
                err,
                &[CStatus::Ok, CStatus::InvalidArgument, CStatus::InvalidUtf8],
            );
            if status == Status::Ok {
                for header in sent_as_headers {
                    // A CR, LF or any other control byte would let input forge headers.
                    assert!(header.iter().all(|b| (0x20..0x7f).contains(b)), "accepted {header:?}");
                }
                if matches!(pick % 12, 0 | 1) {
                    assert!(!arg.contains(&b' '), "a credential with a space: {arg:?}");
                }
                if matches!(pick % 12, 5 | 7) {
                    let url = std::str::from_utf8(arg).expect("an accepted URL is UTF-8");
                    assert!(!url.chars().any(char::is_control), "accepted URL {url:?}");
                }
            }
        }
        let mut client: *mut vf_client = null_mut();
        let mut err: *mut vf_error = null_mut();
        let status = vf_client_new(config, &mut client, &mut err);
        check_outcome(status, err, &[CStatus::Ok, CStatus::InvalidArgument]);
        assert_eq!(client.is_null(), status != Status::Ok);
        vf_client_free(client);
        vf_config_free(config);
    }
}

/// A C call's status is one of `allowed`, and its error object exists
/// exactly when it failed, with a message; the object is freed here.
unsafe fn check_outcome(status: CStatus, err: *mut vf_error, allowed: &[CStatus]) {
    assert!(allowed.contains(&status), "unexpected status {status:?}");
    assert_eq!(err.is_null(), status == Status::Ok);
    if !err.is_null() {
        let message: *const c_char = unsafe { vf_error_message(err) };
        assert!(!message.is_null());
        let message = unsafe { CStr::from_ptr(message) };
        assert!(!message.to_bytes().is_empty() && message.to_bytes().len() <= MAX_MESSAGE);
        unsafe { vf_error_free(err) };
    }
}

/// The token JSON parsers, which are crate-private: reached through the
/// public API, as the 200 answer of generate and of introspect from a
/// local server that answers with the input.
pub fn token_json(data: &[u8]) {
    let client = echo_client();
    // The input travels hex-encoded in the request itself, so the server
    // needs no shared state and calls may run on any thread.
    // A leading `h` keeps the value non-empty when the input is.
    let hex: String = std::iter::once("h".to_owned())
        .chain(data.iter().map(|b| format!("{b:02x}")))
        .collect();
    match client.generate_token(&[&hex]) {
        Ok(token) => check_token(&token),
        Err(e) => check_parse_error(&e),
    }
    match client.introspect_token(&hex) {
        Ok(Introspection::Active(token)) => check_token(&token),
        Ok(Introspection::Inactive) => {}
        Err(e) => check_parse_error(&e),
    }
}

fn check_token(token: &voucherify::Token) {
    assert!(!token.access_token.is_empty());
    // What a token source does with every token it gets.
    let _ = token.expires();
    let _ = format!("{token:?}");
}

fn check_parse_error(e: &Error) {
    assert_eq!(e.status, Status::UnexpectedResponse, "{e}");
    assert!(e.message.len() <= MAX_MESSAGE, "a message of {} bytes", e.message.len());
}

/// One client for the whole run, talking to a server on a loopback port
/// that answers every request with 200 and the hex-decoded form value.
fn echo_client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve_echo(stream));
            }
        });
        let mut config = Config::new();
        config.set_app_id("fuzz-app").unwrap();
        config.set_secret_key("fuzz-key").unwrap();
        config.set_base_url(&format!("http://127.0.0.1:{port}")).unwrap();
        config.set_max_attempts(1).unwrap();
        Client::new(&config).expect("a client for the echo server")
    })
}

/// Serves one kept-alive connection until the client closes it.
fn serve_echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut form = vec![0; length];
        if reader.read_exact(&mut form).is_err() {
            return;
        }
        // `access_token=HEX` or `grant_type=...&scope=HEX`: the value is last.
        let form = String::from_utf8_lossy(&form);
        let value = form.rsplit('=').next().unwrap_or_default();
        let hex = value.strip_prefix('h').unwrap_or_default();
        let body: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        // One write: head and body in separate segments meet Nagle's delay.
        if writer.write_all(&[head.as_bytes(), &body].concat()).is_err() {
            return;
        }
    }
}
