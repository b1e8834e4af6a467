// voucherify.hpp: a header-only C++ wrapper of libvoucherify's C API.
//
//   #include <voucherify.hpp>          (next to voucherify.h)
//   link with -lvoucherify (pkg-config --libs voucherify, or the CMake
//   target voucherify::voucherify_cpp)
//
//   voucherify::Config config;
//   config.load_env();                  // VOUCHERIFY_APP_ID, _SECRET_KEY, ...
//   voucherify::Client client(config);
//   try {
//       client.revoke(token);
//   } catch (const voucherify::Error &e) {
//       if (e.status() != VF_STATUS_TOKEN_NOT_FOUND)
//           std::cerr << e.what() << " request_id=" << e.request_id() << "\n";
//   }
//
// Design (see bindings/cpp/README.md):
// - C++11. The wrapper compiles wherever the C header does, from C++11 to
//   C++20, and a service stuck on an old toolchain can use it. Nothing it
//   would gain from C++17 (std::string_view, std::optional) is worth that.
// - Failures throw voucherify::Error (a std::runtime_error) carrying the
//   status, the HTTP status, Voucherify's key and request_id: it copies
//   them out of the vf_error and frees it at once, so an Error is an
//   ordinary copyable value. A std::expected-style result would need C++23
//   (or a home-made type every caller must learn); exceptions are what C++
//   callers of an HTTP client expect, and the C API remains for code that
//   cannot use them.
// - One RAII owner per C object (Config, Client, Token, TokenSource), each
//   move-only: copying would mean two owners of one pointer. A moved-from
//   owner holds nothing; using it throws Error(VF_STATUS_NULL_ARGUMENT)
//   from the library's own NULL checks, never crashes. Every constructor
//   that can take one argument is explicit: `void f(const TokenSource &)`
//   called as f(client) would otherwise mint a temporary source that
//   revokes its token as soon as the call ends.
// - Every C call goes through detail::call(), the one place that checks a
//   status, and every string through detail::c_string(), which refuses a
//   std::string holding a NUL (C would read a shorter secret or token than
//   the caller gave) with VF_STATUS_INVALID_ARGUMENT.
// - Thread safety is the C API's: a Client and a TokenSource may be shared
//   by threads once set up; Config and Token belong to one thread at a time.
#ifndef VOUCHERIFY_HPP
#define VOUCHERIFY_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "voucherify.h"

namespace voucherify {

/// The status type of the C API (VF_STATUS_OK, VF_STATUS_TOKEN_NOT_FOUND, ...).
typedef vf_status Status;

/// The library's version at run time, such as "0.1.0".
inline std::string version() { return vf_version(); }

/// The library's version at run time as one number, major * 10000 + minor
/// * 100 + patch (100 for 0.1.0), to compare with VF_VERSION_NUMBER.
inline std::uint32_t version_number() { return vf_version_number(); }

/// The name of a status, such as "VF_STATUS_TIMEOUT".
inline std::string status_name(int status) { return vf_status_str(status); }

namespace detail {
inline std::string str(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
}  // namespace detail

/// Rate-limit headers of an answer; -1 (or empty) for each one absent (or
/// not seen yet).
struct RateLimit {
    std::int64_t limit;      // X-Rate-Limit-Limit: calls allowed per period
    std::int64_t remaining;  // X-Rate-Limit-Remaining: calls left in this period
    std::int64_t retry_at;   // X-Rate-Limit-Retry: Unix seconds when calls are allowed again
    std::string type;        // X-Rate-Limit-Type: "api_calls", "api_calls_cycle" (the billing cycle's quota)...

    RateLimit() : limit(-1), remaining(-1), retry_at(-1) {}
};

/// A failed call: what() is the library's one-line message, fit for a log.
/// Empty strings stand for details Voucherify's answer did not carry.
class Error : public std::runtime_error {
public:
    /// Takes the details out of `error` and frees it (`error` may be NULL),
    /// even when copying them throws.
    Error(Status status, vf_error *error) : Error(status, Owned(error)) {}
    /// Takes over an error object from C code, with the status it holds.
    explicit Error(vf_error *error) : Error(vf_error_status(error), error) {}
    /// A failure found before any C call (such as a string holding a NUL).
    Error(Status status, const std::string &message) : Error(status, message, nullptr) {}

    /// The status of the failed call (never VF_STATUS_OK).
    Status status() const noexcept { return status_; }
    /// The HTTP status of Voucherify's answer, 0 if there was none.
    int http_status() const noexcept { return http_status_; }
    /// Voucherify's error `key`, such as "unauthorized"; empty if none.
    const std::string &key() const noexcept { return key_; }
    /// Voucherify's error `message`; empty if none (what() includes it).
    const std::string &api_message() const noexcept { return api_message_; }
    /// Voucherify's error `details`; empty if none.
    const std::string &details() const noexcept { return details_; }
    /// Voucherify's `request_id` (what its support asks for); empty if none.
    const std::string &request_id() const noexcept { return request_id_; }
    /// How many requests the call sent, retries included (0: none, bad input).
    std::uint32_t attempts() const noexcept { return attempts_; }
    /// Retry-After of the last answer in seconds, -1 if absent.
    std::int64_t retry_after_s() const noexcept { return retry_after_s_; }
    /// The rate-limit headers of the last answer.
    const RateLimit &rate_limit() const noexcept { return rate_limit_; }

private:
    typedef std::unique_ptr<vf_error, void (*)(vf_error *)> Owned_;
    struct Owned : Owned_ {
        explicit Owned(vf_error *e) noexcept : Owned_(e, vf_error_free) {}
    };
    Error(Status status, const Owned &error) : Error(status, message_of(status, error.get()), error.get()) {}
    // The C accessors give NULL, 0 or -1 for a NULL `error`.
    Error(Status status, const std::string &message, const vf_error *error)
        : std::runtime_error(message),
          status_(status),
          http_status_(vf_error_http_status(error)),
          attempts_(vf_error_attempts(error)),
          retry_after_s_(vf_error_retry_after_s(error)),
          key_(detail::str(vf_error_key(error))),
          api_message_(detail::str(vf_error_api_message(error))),
          details_(detail::str(vf_error_details(error))),
          request_id_(detail::str(vf_error_request_id(error))) {
        rate_limit_.limit = vf_error_rate_limit_limit(error);
        rate_limit_.remaining = vf_error_rate_limit_remaining(error);
        rate_limit_.retry_at = vf_error_rate_limit_retry_at(error);
        rate_limit_.type = detail::str(vf_error_rate_limit_type(error));
    }

    static std::string message_of(Status status, const vf_error *error) {
        const char *message = vf_error_message(error);
        return message != nullptr ? std::string(message) : status_name(status);
    }

    Status status_;
    int http_status_;
    std::uint32_t attempts_;
    std::int64_t retry_after_s_;
    RateLimit rate_limit_;
    std::string key_, api_message_, details_, request_id_;
};

namespace detail {
// Calls a fallible C function with `args` and a last `vf_error **`, and
// throws its error: the one place where a status is checked.
template <typename... Params, typename... Args>
void call(vf_status (*function)(Params...), Args... args) {
    vf_error *err = nullptr;
    const Status status = function(args..., &err);
    if (status != VF_STATUS_OK)
        throw Error(status, err);
    vf_error_free(err);  // NULL on success by contract; freed to be sure
}

// The C string of `value` (`what` names it in the message, which never
// holds the value: it may be a secret). A NUL inside would end the string
// early, and C would act on a shorter value than the caller gave.
inline const char *c_string(const std::string &value, const char *what) {
    if (value.find('\0') != std::string::npos)
        throw Error(VF_STATUS_INVALID_ARGUMENT, std::string("invalid ") + what + ": contains a NUL character");
    return value.c_str();
}

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

// A string the library returned as owned, freed with vf_string_free().
inline std::string take_string(char *s) {
    std::unique_ptr<char, Deleter<char, vf_string_free> > owner(s);
    return s != nullptr ? std::string(s) : std::string();
}
}  // namespace detail

/// Receives the library's log records (vf_config_set_log_callback): a
/// level (VF_LOG_LEVEL_ERROR .. VF_LOG_LEVEL_TRACE) and one line of text,
/// which never holds a secret. Called from the library's threads, several
/// at once: it must be thread-safe, quick, and must not call back into the
/// client it reports on. An exception it throws is dropped.
typedef std::function<void(vf_log_level, const std::string &)> LogFunction;

namespace detail {
inline void log_to_function(void *user_data, int level, const char *message) {
    try {
        (*static_cast<LogFunction *>(user_data))(static_cast<vf_log_level>(level), message ? message : "");
    } catch (...) {
        // Nothing may unwind into the library's threads.
    }
}
}  // namespace detail

/// Which certificates a TLS server must chain to (VF_TLS_ROOTS_SYSTEM, the
/// default, or VF_TLS_ROOTS_MOZILLA, built into the library).
typedef vf_tls_roots TlsRoots;

/// Settings for a Client (vf_config). Setters return *this for chaining and
/// throw Error, leaving the setting unchanged, for invalid values.
class Config {
public:
    /// The defaults: the `api` cluster, 10 s connect and 30 s total timeout,
    /// 3 attempts, no proxy, the system's certificate store.
    Config() : p_(vf_config_new()) {
        if (!p_)
            throw std::bad_alloc();
    }
    Config(Config &&) noexcept = default;
    Config &operator=(Config &&) noexcept = default;
    Config(const Config &) = delete;
    Config &operator=(const Config &) = delete;

    Config &app_id(const std::string &v) { return set(vf_config_set_app_id, detail::c_string(v, "app id")); }
    Config &secret_key(const std::string &v) {
        return set(vf_config_set_secret_key, detail::c_string(v, "secret key"));
    }
    /// `api` (the default), `us1.api`, `as1.api`, ...
    Config &cluster(const std::string &v) { return set(vf_config_set_cluster, detail::c_string(v, "cluster")); }
    Config &base_url(const std::string &v) { return set(vf_config_set_base_url, detail::c_string(v, "base URL")); }
    Config &channel(const std::string &v) { return set(vf_config_set_channel, detail::c_string(v, "channel")); }
    Config &user_agent_suffix(const std::string &v) {
        return set(vf_config_set_user_agent_suffix, detail::c_string(v, "user agent suffix"));
    }
    Config &allow_insecure_http(bool allow) { return set(vf_config_set_allow_insecure_http, allow); }
    Config &connect_timeout_ms(std::uint32_t ms) { return set(vf_config_set_connect_timeout_ms, ms); }
    Config &timeout_ms(std::uint32_t ms) { return set(vf_config_set_timeout_ms, ms); }
    /// VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, VOUCHERIFY_API_URL or
    /// VOUCHERIFY_CLUSTER; unset variables leave their setting alone.
    Config &load_env() { return set(vf_config_load_env); }
    /// Requests one call may send, 1 (no retries) to 10; default 3.
    Config &max_attempts(std::uint32_t attempts) { return set(vf_config_set_max_attempts, attempts); }
    /// The longest wait before the first retry (default 200 ms), doubling after.
    Config &retry_base_delay_ms(std::uint32_t ms) { return set(vf_config_set_retry_base_delay_ms, ms); }
    /// An HTTP proxy, `http://[user:password@]host:port` (never in a message).
    Config &proxy(const std::string &url) { return set(vf_config_set_proxy, detail::c_string(url, "proxy URL")); }
    /// Takes the proxy from the environment when the Client is built.
    Config &proxy_from_env(bool from_env) { return set(vf_config_set_proxy_from_env, from_env); }
    Config &tls_roots(TlsRoots roots) { return set(vf_config_set_tls_roots, static_cast<int>(roots)); }
    /// Also trusts the certificates of a PEM file, read by the Client.
    Config &ca_file(const std::string &path) { return set(vf_config_set_ca_file, detail::c_string(path, "CA file")); }
    /// A header for every request (not one the library sets itself).
    Config &add_header(const std::string &name, const std::string &value) {
        return set(vf_config_add_header, detail::c_string(name, "header name"), detail::c_string(value, "header value"));
    }

    /// Sends the records at `min_level` and above to `log`; an empty
    /// function removes it. Clients built from this config (and their
    /// token sources) keep the function alive.
    Config &log(LogFunction log, vf_log_level min_level = VF_LOG_LEVEL_WARN) {
        std::shared_ptr<LogFunction> kept;
        if (log)
            kept = std::make_shared<LogFunction>(std::move(log));
        vf_log_callback callback = kept ? &detail::log_to_function : nullptr;
        set(vf_config_set_log_callback, callback, static_cast<void *>(kept.get()), static_cast<int>(min_level));
        log_ = kept;
        return *this;
    }

    vf_config *get() const noexcept { return p_.get(); }
    /// The log function set with log(), shared with the clients built.
    std::shared_ptr<LogFunction> log_function() const { return log_; }

private:
    template <typename... Params, typename... Args>
    Config &set(vf_status (*setter)(vf_config *, Params...), Args... args) {
        detail::call(setter, p_.get(), args...);
        return *this;
    }
    std::shared_ptr<LogFunction> log_;
    std::unique_ptr<vf_config, detail::Deleter<vf_config, vf_config_free> > p_;
};

/// An access token (vf_token). Treat access_token() as a secret.
class Token {
public:
    /// An empty token (what introspection gives for an inactive one).
    Token() noexcept = default;
    /// Takes ownership of `token`.
    explicit Token(vf_token *token) noexcept : p_(token) {}
    Token(Token &&) noexcept = default;
    Token &operator=(Token &&) noexcept = default;
    Token(const Token &) = delete;
    Token &operator=(const Token &) = delete;

    explicit operator bool() const noexcept { return p_ != nullptr; }
    std::string access_token() const { return detail::str(vf_token_access_token(p_.get())); }
    std::string client_id() const { return detail::str(vf_token_client_id(p_.get())); }
    std::string scope() const { return detail::str(vf_token_scope(p_.get())); }
    std::string type() const { return detail::str(vf_token_type(p_.get())); }
    /// Unix seconds by Voucherify's clock.
    std::int64_t expires_at() const noexcept { return vf_token_expires_at(p_.get()); }
    /// Seconds left when Voucherify answered (900 for a new token).
    std::int64_t expires_in() const noexcept { return vf_token_expires_in(p_.get()); }
    vf_token *get() const noexcept { return p_.get(); }

private:
    std::unique_ptr<vf_token, detail::Deleter<vf_token, vf_token_free> > p_;
};

/// The answer of Client::introspect().
struct Introspection {
    bool active;
    Token token;  // the details when active, empty otherwise
};

/// One token's outcome in Client::revoke_many().
struct RevokeOutcome {
    Status status;                 // VF_STATUS_OK, VF_STATUS_TOKEN_NOT_FOUND, ...
    std::shared_ptr<Error> error;  // null when status is VF_STATUS_OK
    bool revoked() const noexcept { return status == VF_STATUS_OK; }
};

/// Told as each token of Client::revoke_many() finishes: its index and
/// status. Return true to go on, false to stop: no further token is sent
/// (those already sent finish and are reported), and the tokens never sent
/// get VF_STATUS_CANCELLED with no call. Called from the operation's worker
/// threads, one call at a time (no lock needed), in the order the tokens
/// finish; tokens refused before sending first, from the calling thread.
/// It should return quickly, and must not use the vector being revoked.
typedef std::function<bool(std::size_t index, Status status)> RevokeProgress;

/// What a client has done since it was made (vf_counters: calls, requests,
/// retries, answers by class, 429s, time paused, failures by kind,
/// connections opened).
typedef vf_counters Counters;

/// What a token source has done since it was made (vf_source_counters:
/// mints, renewals, their failures; expires_in_s, -1 while no token is
/// cached).
typedef vf_source_counters SourceCounters;

/// A Voucherify client (vf_client): credentials and a connection pool.
/// Thread-safe: share one among threads.
class Client {
public:
    /// Copies what it needs from `config`, which may be dropped afterwards.
    explicit Client(const Config &config) : log_(config.log_function()) {
        vf_client *client = nullptr;
        detail::call(vf_client_new, config.get(), &client);
        p_.reset(client);
    }
    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /// Revokes `access_token`. Throws Error, with status
    /// VF_STATUS_TOKEN_NOT_FOUND when the token is unknown, expired or
    /// already revoked (often nothing to worry about).
    void revoke(const std::string &access_token) const {
        detail::call(vf_revoke_token, p_.get(), detail::c_string(access_token, "access token"));
    }

    /// Mints a token for `scope` (space-separated, such as "api").
    Token generate(const std::string &scope = "api") const {
        vf_token *token = nullptr;
        detail::call(vf_generate_token, p_.get(), detail::c_string(scope, "scope"), &token);
        return Token(token);
    }

    /// Whether `access_token` is active, and its details when it is.
    Introspection introspect(const std::string &access_token) const {
        bool active = false;
        vf_token *token = nullptr;
        detail::call(vf_introspect_token, p_.get(), detail::c_string(access_token, "access token"), &active, &token);
        Introspection result = {active, Token(token)};
        return result;
    }

    /// Revokes many tokens, `parallelism` at a time (0: the default, 4;
    /// at most 32); one outcome per token, in order. A token holding a NUL
    /// gets VF_STATUS_INVALID_ARGUMENT and is not sent. With `progress`,
    /// see RevokeProgress. Throws only for argument errors, or what
    /// `progress` threw.
    std::vector<RevokeOutcome> revoke_many(const std::vector<std::string> &tokens, std::uint32_t parallelism = 0,
                                           const RevokeProgress &progress = RevokeProgress()) const {
        std::vector<const char *> ptrs;
        std::vector<std::shared_ptr<Error> > refused(tokens.size());
        ptrs.reserve(tokens.size());
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            try {
                ptrs.push_back(detail::c_string(tokens[i], "access token"));
            } catch (const Error &e) {
                ptrs.push_back(nullptr);  // C gives it VF_STATUS_NULL_ARGUMENT; replaced below
                refused[i] = std::make_shared<Error>(e);
            }
        }
        std::vector<vf_status> statuses(tokens.size(), VF_STATUS_OK);
        std::vector<vf_error *> errors(tokens.size(), nullptr);
        if (progress) {
            ProgressContext context = {&progress, &refused, std::exception_ptr()};
            detail::call(vf_revoke_tokens_with_progress, p_.get(), ptrs.data(), ptrs.size(), parallelism,
                         &ProgressContext::report, static_cast<void *>(&context), statuses.data(), errors.data());
            if (context.thrown) {
                for (vf_error *e : errors)
                    vf_error_free(e);
                std::rethrow_exception(context.thrown);
            }
        } else {
            detail::call(vf_revoke_tokens, p_.get(), ptrs.data(), ptrs.size(), parallelism, statuses.data(),
                         errors.data());
        }
        std::vector<RevokeOutcome> outcomes;
        outcomes.reserve(tokens.size());
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            RevokeOutcome outcome = {statuses[i], nullptr};
            vf_error *e = errors[i];
            errors[i] = nullptr;
            try {
                if (refused[i]) {
                    vf_error_free(e);
                    outcome.status = refused[i]->status();
                    outcome.error = refused[i];
                } else if (statuses[i] != VF_STATUS_OK || e != nullptr) {
                    outcome.error = std::make_shared<Error>(statuses[i], e);
                }
            } catch (...) {
                for (vf_error *rest : errors)
                    vf_error_free(rest);
                throw;
            }
            outcomes.push_back(outcome);
        }
        return outcomes;
    }

    /// The client's counters; cheap (atomic reads), from any thread.
    Counters counters() const {
        Counters c = Counters();
        c.size = sizeof c;
        detail::call(vf_client_counters, p_.get(), &c);
        return c;
    }

    /// Cancels what this client is doing, for good, from any thread (for a
    /// shutdown): waits before a retry end at once with
    /// VF_STATUS_CANCELLED, and bulk revokes send no further token. A call
    /// still sends its first attempt. Not async-signal-safe.
    void cancel() const { detail::call(vf_client_cancel, p_.get()); }

    /// The rate-limit headers of the latest answer this client received.
    RateLimit rate_limit() const {
        RateLimit r;
        detail::call(vf_client_rate_limit, p_.get(), &r.limit, &r.remaining, &r.retry_at);
        char *type = nullptr;
        detail::call(vf_client_rate_limit_type, p_.get(), &type);
        if (type != nullptr)
            r.type = detail::take_string(type);
        return r;
    }

    /// Until when the rate limit pauses this client, in Unix milliseconds,
    /// or -1 when calls go out at once. During a pause nothing is sent by
    /// any thread using the client; a call whose timeout ends first throws
    /// VF_STATUS_RATE_LIMITED (or VF_STATUS_QUOTA_EXCEEDED) at once.
    std::int64_t paused_until_ms() const {
        std::int64_t unix_ms = -1;
        detail::call(vf_client_paused_until, p_.get(), &unix_ms);
        return unix_ms;
    }

    vf_client *get() const noexcept { return p_.get(); }
    /// The log function this client reports to, if any.
    std::shared_ptr<LogFunction> log_function() const { return log_; }

private:
    // What the C progress callback needs. An exception must not cross the
    // C library (it would abort): the first one is kept, the operation
    // stopped, and revoke_many() rethrows it.
    struct ProgressContext {
        const RevokeProgress *progress;
        const std::vector<std::shared_ptr<Error> > *refused;
        std::exception_ptr thrown;

        static int report(void *user_data, std::size_t index, vf_status status, const vf_error *) noexcept {
            ProgressContext &self = *static_cast<ProgressContext *>(user_data);
            if (self.thrown)
                return 1;
            try {
                const std::shared_ptr<Error> &refused = (*self.refused)[index];
                return (*self.progress)(index, refused ? refused->status() : status) ? 0 : 1;
            } catch (...) {
                self.thrown = std::current_exception();
                return 1;
            }
        }
    };
    // Declared first, destroyed last: it outlives the client using it.
    std::shared_ptr<LogFunction> log_;
    std::unique_ptr<vf_client, detail::Deleter<vf_client, vf_client_free> > p_;
};

/// Hands out a valid access token, minting and refreshing it as needed
/// (vf_token_source). By default revokes its token when destroyed.
/// access_token(), authorization(), refresh() and refresh_rejected() are
/// thread-safe.
class TokenSource {
public:
    /// Mints nothing yet. The source keeps the client's pool alive, so the
    /// Client may be destroyed first.
    explicit TokenSource(const Client &client, const std::string &scope = "api") : log_(client.log_function()) {
        vf_token_source *source = nullptr;
        detail::call(vf_token_source_new, client.get(), detail::c_string(scope, "scope"), &source);
        p_.reset(source);
    }
    TokenSource(TokenSource &&) noexcept = default;
    TokenSource &operator=(TokenSource &&) noexcept = default;
    TokenSource(const TokenSource &) = delete;
    TokenSource &operator=(const TokenSource &) = delete;

    /// How long before expiry a token is replaced (default 60 000 ms).
    TokenSource &refresh_margin_ms(std::uint32_t ms) {
        detail::call(vf_token_source_set_refresh_margin_ms, p_.get(), ms);
        return *this;
    }
    /// Whether destruction revokes the minted token (default true).
    TokenSource &revoke_on_free(bool revoke) {
        detail::call(vf_token_source_set_revoke_on_free, p_.get(), revoke);
        return *this;
    }
    /// A valid access token.
    std::string access_token() const {
        char *token = nullptr;
        detail::call(vf_token_source_access_token, p_.get(), &token);
        return detail::take_string(token);
    }
    /// "Bearer <token>", for the Authorization header.
    std::string authorization() const {
        char *header = nullptr;
        detail::call(vf_token_source_authorization, p_.get(), &header);
        return detail::take_string(header);
    }
    /// Mints a new token now, or joins a mint in flight (after a request
    /// was answered 401). Prefer refresh_rejected().
    void refresh() const { detail::call(vf_token_source_refresh, p_.get()); }
    /// A valid token other than `rejected` (which was answered 401): the
    /// current one if another thread already replaced it, else a new one.
    std::string refresh_rejected(const std::string &rejected) const {
        char *token = nullptr;
        detail::call(vf_token_source_refresh_rejected, p_.get(), detail::c_string(rejected, "rejected token"), &token);
        return detail::take_string(token);
    }

    /// The source's counters; thread-safe, never waits for a mint.
    SourceCounters counters() const {
        SourceCounters c = SourceCounters();
        c.size = sizeof c;
        detail::call(vf_token_source_counters, p_.get(), &c);
        return c;
    }

    vf_token_source *get() const noexcept { return p_.get(); }

private:
    // Outlives the source, which may log until it is freed (its revoke).
    std::shared_ptr<LogFunction> log_;
    std::unique_ptr<vf_token_source, detail::Deleter<vf_token_source, vf_token_source_free> > p_;
};

}  // namespace voucherify

#endif  // VOUCHERIFY_HPP
