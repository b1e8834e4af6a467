// voucherify.hpp: a header-only C++ wrapper of libvoucherify's C API.
//
//   #include <voucherify.hpp>          (next to voucherify.h)
//   link with -lvoucherify (pkg-config --libs voucherify, or the CMake
//   target voucherify::voucherify)
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
//   from the library's own NULL checks, never crashes.
// - Thread safety is the C API's: a Client and a TokenSource may be shared
//   by threads once set up; Config and Token belong to one thread at a time.
#ifndef VOUCHERIFY_HPP
#define VOUCHERIFY_HPP

#include <cstddef>
#include <cstdint>
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

/// The name of a status, such as "VF_STATUS_TIMEOUT".
inline std::string status_name(int status) { return vf_status_str(status); }

namespace detail {
inline std::string str(const char *s) { return s != nullptr ? std::string(s) : std::string(); }
}  // namespace detail

/// A failed call: what() is the library's one-line message, fit for a log.
/// Empty strings stand for details Voucherify's answer did not carry.
class Error : public std::runtime_error {
public:
    /// Takes the details out of `error` and frees it (`error` may be NULL),
    /// even when copying them throws.
    Error(Status status, vf_error *error) : Error(status, Owned(error)) {}

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
    /// Retry-After of the answer in seconds, -1 if absent.
    std::int64_t retry_after_s() const noexcept { return retry_after_s_; }

private:
    typedef std::unique_ptr<vf_error, void (*)(vf_error *)> Owned_;
    struct Owned : Owned_ {
        explicit Owned(vf_error *e) noexcept : Owned_(e, vf_error_free) {}
    };
    Error(Status status, const Owned &error)
        : std::runtime_error(message_of(status, error.get())),
          status_(status),
          http_status_(vf_error_http_status(error.get())),
          retry_after_s_(error ? vf_error_retry_after_s(error.get()) : -1),
          key_(detail::str(vf_error_key(error.get()))),
          api_message_(detail::str(vf_error_api_message(error.get()))),
          details_(detail::str(vf_error_details(error.get()))),
          request_id_(detail::str(vf_error_request_id(error.get()))) {}

    static std::string message_of(Status status, const vf_error *error) {
        const char *message = vf_error_message(error);
        return message != nullptr ? std::string(message) : status_name(status);
    }

    Status status_;
    int http_status_;
    std::int64_t retry_after_s_;
    std::string key_, api_message_, details_, request_id_;
};

namespace detail {
// Throws the error of a fallible C call. `err` is taken by reference: in
// check(vf_call(..., &err), err) the arguments are unsequenced, so a copy
// could be read before the call wrote it. Freed either way.
inline void check(Status status, vf_error *&err) {
    vf_error *e = err;
    err = nullptr;
    if (status != VF_STATUS_OK)
        throw Error(status, e);
    vf_error_free(e);  // NULL on success; freed anyway, to be sure
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

/// Settings for a Client (vf_config). Setters return *this for chaining.
class Config {
public:
    /// The defaults: the `api` cluster, 10 s connect and 30 s total timeout.
    Config() : p_(vf_config_new()) {
        if (!p_)
            throw std::bad_alloc();
    }
    Config(Config &&) noexcept = default;
    Config &operator=(Config &&) noexcept = default;
    Config(const Config &) = delete;
    Config &operator=(const Config &) = delete;

    Config &app_id(const std::string &v) { return set(vf_config_set_app_id, v); }
    Config &secret_key(const std::string &v) { return set(vf_config_set_secret_key, v); }
    Config &cluster(const std::string &v) { return set(vf_config_set_cluster, v); }
    Config &base_url(const std::string &v) { return set(vf_config_set_base_url, v); }
    Config &channel(const std::string &v) { return set(vf_config_set_channel, v); }
    Config &user_agent_suffix(const std::string &v) { return set(vf_config_set_user_agent_suffix, v); }
    Config &allow_insecure_http(bool allow) {
        vf_error *err = nullptr;
        detail::check(vf_config_set_allow_insecure_http(p_.get(), allow, &err), err);
        return *this;
    }
    Config &connect_timeout_ms(std::uint32_t ms) { return set_ms(vf_config_set_connect_timeout_ms, ms); }
    Config &timeout_ms(std::uint32_t ms) { return set_ms(vf_config_set_timeout_ms, ms); }
    /// VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, VOUCHERIFY_API_URL or
    /// VOUCHERIFY_CLUSTER; unset variables leave their setting alone.
    Config &load_env() {
        vf_error *err = nullptr;
        detail::check(vf_config_load_env(p_.get(), &err), err);
        return *this;
    }

    vf_config *get() const noexcept { return p_.get(); }

private:
    typedef vf_status (*StringSetter)(vf_config *, const char *, vf_error **);
    typedef vf_status (*MsSetter)(vf_config *, std::uint32_t, vf_error **);
    Config &set(StringSetter f, const std::string &v) {
        vf_error *err = nullptr;
        detail::check(f(p_.get(), v.c_str(), &err), err);
        return *this;
    }
    Config &set_ms(MsSetter f, std::uint32_t ms) {
        vf_error *err = nullptr;
        detail::check(f(p_.get(), ms, &err), err);
        return *this;
    }
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

/// The rate-limit headers of the latest answer; -1 for each not seen yet.
struct RateLimit {
    std::int64_t limit, remaining, retry_at;
};

/// A Voucherify client (vf_client): credentials and a connection pool.
/// Thread-safe: share one among threads.
class Client {
public:
    /// Copies what it needs from `config`, which may be dropped afterwards.
    explicit Client(const Config &config) {
        vf_client *client = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_client_new(config.get(), &client, &err), err);
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
        vf_error *err = nullptr;
        detail::check(vf_revoke_token(p_.get(), access_token.c_str(), &err), err);
    }

    /// Mints a token for `scope` (space-separated, such as "api").
    Token generate(const std::string &scope = "api") const {
        vf_token *token = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_generate_token(p_.get(), scope.c_str(), &token, &err), err);
        return Token(token);
    }

    /// Whether `access_token` is active, and its details when it is.
    Introspection introspect(const std::string &access_token) const {
        bool active = false;
        vf_token *token = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_introspect_token(p_.get(), access_token.c_str(), &active, &token, &err), err);
        Introspection result = {active, Token(token)};
        return result;
    }

    /// Revokes many tokens, `parallelism` at a time (0: the default, 4);
    /// one outcome per token, in order. Throws only for argument errors.
    std::vector<RevokeOutcome> revoke_many(const std::vector<std::string> &tokens,
                                           std::uint32_t parallelism = 0) const {
        std::vector<const char *> ptrs;
        ptrs.reserve(tokens.size());
        for (const std::string &t : tokens)
            ptrs.push_back(t.c_str());
        std::vector<vf_status> statuses(tokens.size(), VF_STATUS_OK);
        std::vector<vf_error *> errors(tokens.size(), nullptr);
        vf_error *err = nullptr;
        detail::check(vf_revoke_tokens(p_.get(), ptrs.data(), ptrs.size(), parallelism,
                                       statuses.data(), errors.data(), &err),
                      err);
        std::vector<RevokeOutcome> outcomes;
        outcomes.reserve(tokens.size());
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            RevokeOutcome outcome = {statuses[i], nullptr};
            if (statuses[i] != VF_STATUS_OK || errors[i] != nullptr) {
                vf_error *e = errors[i];
                errors[i] = nullptr;
                try {
                    outcome.error = std::make_shared<Error>(statuses[i], e);
                } catch (...) {
                    for (vf_error *rest : errors)
                        vf_error_free(rest);
                    throw;
                }
            }
            outcomes.push_back(outcome);
        }
        return outcomes;
    }

    /// The rate-limit headers of the latest answer this client received.
    RateLimit rate_limit() const {
        RateLimit r = {-1, -1, -1};
        vf_error *err = nullptr;
        detail::check(vf_client_rate_limit(p_.get(), &r.limit, &r.remaining, &r.retry_at, &err), err);
        return r;
    }

    vf_client *get() const noexcept { return p_.get(); }

private:
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
    TokenSource(const Client &client, const std::string &scope = "api") {
        vf_token_source *source = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_token_source_new(client.get(), scope.c_str(), &source, &err), err);
        p_.reset(source);
    }
    TokenSource(TokenSource &&) noexcept = default;
    TokenSource &operator=(TokenSource &&) noexcept = default;
    TokenSource(const TokenSource &) = delete;
    TokenSource &operator=(const TokenSource &) = delete;

    /// How long before expiry a token is replaced (default 60 000 ms).
    TokenSource &refresh_margin_ms(std::uint32_t ms) {
        vf_error *err = nullptr;
        detail::check(vf_token_source_set_refresh_margin_ms(p_.get(), ms, &err), err);
        return *this;
    }
    /// Whether destruction revokes the minted token (default true).
    TokenSource &revoke_on_free(bool revoke) {
        vf_error *err = nullptr;
        detail::check(vf_token_source_set_revoke_on_free(p_.get(), revoke, &err), err);
        return *this;
    }
    /// A valid access token.
    std::string access_token() const {
        char *token = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_token_source_access_token(p_.get(), &token, &err), err);
        return detail::take_string(token);
    }
    /// "Bearer <token>", for the Authorization header.
    std::string authorization() const {
        char *header = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_token_source_authorization(p_.get(), &header, &err), err);
        return detail::take_string(header);
    }
    /// Mints a new token now, or joins a mint in flight (after a request
    /// was answered 401). Prefer refresh_rejected().
    void refresh() const {
        vf_error *err = nullptr;
        detail::check(vf_token_source_refresh(p_.get(), &err), err);
    }
    /// A valid token other than `rejected` (which was answered 401): the
    /// current one if another thread already replaced it, else a new one.
    std::string refresh_rejected(const std::string &rejected) const {
        char *token = nullptr;
        vf_error *err = nullptr;
        detail::check(vf_token_source_refresh_rejected(p_.get(), rejected.c_str(), &token, &err), err);
        return detail::take_string(token);
    }

    vf_token_source *get() const noexcept { return p_.get(); }

private:
    std::unique_ptr<vf_token_source, detail::Deleter<vf_token_source, vf_token_source_free> > p_;
};

}  // namespace voucherify

#endif  // VOUCHERIFY_HPP
