//! `vf_config`: the settings a client is built from.

use std::ffi::{c_char, c_int};

use super::{
    boundary, boundary_value, enum_arg, free_object, into_owned, mut_arg, optional_str_arg, str_arg, vf_error, Status,
};
use crate::core::{Config, TlsRoots};

/// Settings for `vf_client_new()`: credentials, where to send requests,
/// timeouts and extra headers. Created by `vf_config_new()`, freed by the
/// caller with `vf_config_free()`; a client copies what it needs, so the
/// configuration may be freed or changed once the client exists.
///
/// Each setter checks its argument and leaves the configuration unchanged
/// when it fails. Strings are copied; the caller keeps ownership. A
/// configuration belongs to one thread at a time.
pub struct vf_config {
    pub(crate) inner: Config,
}

/// A new configuration with the defaults: the `api` cluster
/// (`https://api.voucherify.io`), a 10 000 ms connect timeout, a 30 000 ms
/// total timeout, no channel header, no user-agent suffix, insecure HTTP
/// only to loopback hosts. Application id and secret key must still be set.
/// Returns NULL only if memory runs out.
///
/// \return a new configuration, freed with `vf_config_free()`
#[must_use]
#[no_mangle]
pub extern "C" fn vf_config_new() -> *mut vf_config {
    boundary_value(std::ptr::null_mut(), || into_owned(vf_config { inner: Config::new() }))
}

/// Frees a configuration. NULL is accepted and ignored. Clients built from
/// it are not affected.
///
/// \param config the configuration to free; may be NULL
#[no_mangle]
pub unsafe extern "C" fn vf_config_free(config: *mut vf_config) {
    // SAFETY: the caller passes NULL or a configuration it owns, once.
    boundary_value((), || unsafe { free_object(config) })
}

/// Sets the application id, sent as `X-App-Id`. It must be non-empty
/// printable ASCII without spaces (`VF_STATUS_INVALID_ARGUMENT` otherwise).
///
/// \param config the configuration to change
/// \param app_id the application id
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_app_id(
    config: *mut vf_config,
    app_id: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_app_id(str_arg(app_id, "app_id")?)
    })
}

/// Sets the secret key, sent as `X-App-Token`. It must be non-empty
/// printable ASCII without spaces. It never appears in any message.
///
/// \param config the configuration to change
/// \param secret_key the secret key
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_secret_key(
    config: *mut vf_config,
    secret_key: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_secret_key(str_arg(secret_key, "secret_key")?)
    })
}

/// Sends requests to `https://<cluster>.voucherify.io`, where `cluster` is
/// one of `api` (the default, Europe), `us1.api` or `as1.api`. Replaces any
/// base URL set before.
///
/// \param config the configuration to change
/// \param cluster the cluster's name, such as `"us1.api"`
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_cluster(
    config: *mut vf_config,
    cluster: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_cluster(str_arg(cluster, "cluster")?)
    })
}

/// Sends requests to an arbitrary base URL (a dedicated region, a proxy,
/// a test server): `https://host[:port][/path]`. Plain `http://` is
/// accepted here but refused by `vf_client_new()` unless the host is
/// loopback and no proxy applies, or `vf_config_set_allow_insecure_http()`
/// allowed it. Loopback is an address in `127.0.0.0/8` or `::1`, or the
/// name `localhost` when, at `vf_client_new()`, every address it resolves
/// to is one of those. User information, queries and fragments are
/// refused, and no error message quotes the URL. Scheme and host are
/// stored in lower case. Replaces any cluster set before.
///
/// \param config the configuration to change
/// \param base_url the base URL
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_base_url(
    config: *mut vf_config,
    base_url: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_base_url(str_arg(base_url, "base_url")?)
    })
}

/// Allows (`true`) or refuses (`false`, the default) plain `http://` base
/// URLs whose host is not loopback, or that a proxy would carry. With it, credentials travel
/// unencrypted: only for a trusted network.
///
/// \param config the configuration to change
/// \param allow whether plain HTTP to other hosts is allowed
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_allow_insecure_http(
    config: *mut vf_config,
    allow: bool,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_allow_insecure_http(allow);
        Ok(())
    })
}

/// Sets how long establishing a connection (TCP and TLS) may take, in
/// milliseconds; at least 1. Default 10 000. It never extends the total
/// timeout.
///
/// \param config the configuration to change
/// \param timeout_ms the connect timeout in milliseconds, at least 1
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_connect_timeout_ms(
    config: *mut vf_config,
    timeout_ms: u32,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_connect_timeout_ms(timeout_ms)
    })
}

/// Sets how long one call may take from start to end, in milliseconds; at
/// least 1. Default 30 000, well under the 3 minutes after which
/// Voucherify's load balancers cut a request. A call that runs out returns
/// `VF_STATUS_TIMEOUT`. Retries, backoff and rate-limit waits all come out
/// of this budget; so that a timed-out attempt can still be retried, each
/// attempt of a revoke or introspect gets a fair share of the time left
/// (the time left divided by the attempts left: with the defaults, 10 s
/// for the first of 3), and the last attempt, or an attempt of a mint
/// (whose timeout is never retried), gets all of it.
///
/// \param config the configuration to change
/// \param timeout_ms the total timeout in milliseconds, at least 1
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_timeout_ms(
    config: *mut vf_config,
    timeout_ms: u32,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_timeout_ms(timeout_ms)
    })
}

/// Sets the `X-Voucherify-Channel` header that names the integration to
/// Voucherify (printable ASCII); NULL sends none (the default).
///
/// \param config the configuration to change
/// \param channel the channel's name, or NULL for none
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_channel(
    config: *mut vf_config,
    channel: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_channel(optional_str_arg(channel, "channel")?)
    })
}

/// Appends text (printable ASCII, such as `"my-service/1.2"`) to the
/// `User-Agent: libvoucherify/<version>` header; NULL appends nothing (the
/// default).
///
/// \param config the configuration to change
/// \param suffix the text to append, or NULL for none
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_user_agent_suffix(
    config: *mut vf_config,
    suffix: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_user_agent_suffix(optional_str_arg(suffix, "user_agent_suffix")?)
    })
}

/// Fills the configuration from the environment: `VOUCHERIFY_APP_ID`,
/// `VOUCHERIFY_SECRET_KEY`, and `VOUCHERIFY_API_URL` or, if that is unset,
/// `VOUCHERIFY_CLUSTER`. Unset or empty variables leave their setting as
/// it was. If any variable is invalid, nothing changes and the error names
/// the variable. Reads the environment with `getenv`: do not call it while
/// another thread calls `setenv`.
///
/// \param config the configuration to change
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or `VF_STATUS_INVALID_ARGUMENT` naming the invalid variable
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_load_env(config: *mut vf_config, err_out: *mut *mut vf_error) -> Status {
    boundary(err_out, || unsafe { mut_arg(config, "config")?.inner.load_env() })
}

/// Sets how many requests one call may send, from 1 (no retries) to 10;
/// the default is 3. Retried are refused or reset connections, timeouts before
/// any answer, and answers 429, 502, 503 and 504, with exponential backoff
/// and full jitter (or the wait the server asks for with `Retry-After` or
/// `X-Rate-Limit-Retry`), and never past the total timeout. Revoke and
/// introspect are safe to repeat. Minting is not (a lost answer would leave
/// a live token nobody holds), so it is retried only when the server
/// certainly did not act: refused connections, connect timeouts, 429, 503.
/// A 402, or a 429 for the billing cycle's quota or an ended plan, is
/// `VF_STATUS_QUOTA_EXCEEDED` and never retried. Each attempt gets a share
/// of the total timeout (see `vf_config_set_timeout_ms()`).
///
/// \param config the configuration to change
/// \param attempts the most requests per call, 1 to 10
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_max_attempts(
    config: *mut vf_config,
    attempts: u32,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_max_attempts(attempts)
    })
}

/// Sets the longest wait before the first retry, in milliseconds (default
/// 200); each further retry may wait up to twice as long as the one before.
///
/// \param config the configuration to change
/// \param delay_ms the longest first wait in milliseconds
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_retry_base_delay_ms(
    config: *mut vf_config,
    delay_ms: u32,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_retry_base_delay_ms(delay_ms);
        Ok(())
    })
}

/// Sends every request through an HTTP proxy,
/// `http://[user:password@]host:port` (or `https://` to the proxy),
/// tunnelled with CONNECT (so TLS stays end to end). Other schemes (SOCKS)
/// are refused with `VF_STATUS_INVALID_ARGUMENT`. NULL removes it (the
/// default: no proxy, whatever the environment says). The URL, which may
/// hold a password, never appears in any message.
///
/// \param config the configuration to change
/// \param proxy_url the proxy's URL, or NULL for none
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_proxy(
    config: *mut vf_config,
    proxy_url: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_proxy(optional_str_arg(proxy_url, "proxy_url")?)
    })
}

/// With `true`, takes the proxy from the environment when the client is
/// built (replacing any `vf_config_set_proxy()`). Off by default. For an
/// https base URL: `https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`,
/// the first set; never `HTTP_PROXY` ("httpoxy": CGI programs get it from a
/// request header). For plain http: `http_proxy` (lower case only),
/// `all_proxy`, `ALL_PROXY`. `no_proxy`/`NO_PROXY` exempts the host: `*`,
/// domain suffixes (`example.com`, `.example.com`), IP addresses, CIDR
/// networks (`10.0.0.0/8`), each optionally with `:port`. A proxy with a
/// scheme other than http or https makes `vf_client_new()` fail with
/// `VF_STATUS_INVALID_ARGUMENT` rather than connect directly.
///
/// \param config the configuration to change
/// \param from_env whether to take the proxy from the environment
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_proxy_from_env(
    config: *mut vf_config,
    from_env: bool,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?.inner.set_proxy_from_env(from_env);
        Ok(())
    })
}

/// Chooses the certificates TLS servers must chain to: a `vf_tls_roots`
/// value passed as an `int`. `VF_TLS_ROOTS_SYSTEM` (the default) is the
/// operating system's store, read once per process;
/// `VF_TLS_ROOTS_MOZILLA` is Mozilla's list built into the library.
/// Certificates are always verified.
///
/// \param config the configuration to change
/// \param roots a `vf_tls_roots` value
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_tls_roots(
    config: *mut vf_config,
    roots: c_int,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_tls_roots(enum_arg(roots, "vf_tls_roots", TlsRoots::from_code)?);
        Ok(())
    })
}

/// Also trusts the certificates in a PEM file (a company CA, say), in
/// addition to the roots chosen with `vf_config_set_tls_roots()`. The file
/// is read by `vf_client_new()`, which fails with
/// `VF_STATUS_INVALID_ARGUMENT` if it cannot be read or holds no
/// certificate. NULL removes it.
///
/// \param config the configuration to change
/// \param path the PEM file's path, or NULL for none
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_set_ca_file(
    config: *mut vf_config,
    path: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .set_ca_file(optional_str_arg(path, "path")?)
    })
}

/// Adds a header to every request. The credential headers (`X-App-Id`,
/// `X-App-Token`) and those the library sets itself (`Content-Type`,
/// `Content-Length`, `Transfer-Encoding`, `Host`, `Connection`) cannot be
/// replaced: `VF_STATUS_INVALID_ARGUMENT`. The name must be an HTTP token
/// and the value printable ASCII.
///
/// \param config the configuration to change
/// \param name the header's name
/// \param value the header's value
/// \param err_out NULL, or where a new error object is written on failure (NULL on success)
/// \return `VF_STATUS_OK`, or why it failed
#[must_use]
#[no_mangle]
pub unsafe extern "C" fn vf_config_add_header(
    config: *mut vf_config,
    name: *const c_char,
    value: *const c_char,
    err_out: *mut *mut vf_error,
) -> Status {
    boundary(err_out, || unsafe {
        mut_arg(config, "config")?
            .inner
            .add_header(str_arg(name, "name")?, str_arg(value, "value")?)
    })
}
