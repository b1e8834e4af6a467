// Tests of bindings/cpp/voucherify.hpp against the stand-in (run by
// tests/install/cpp.sh under valgrind, built as C++11, C++17 and C++20).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "voucherify.hpp"

namespace vf = voucherify;

static int failures = 0;
#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
            ++failures;                                                             \
        }                                                                           \
    } while (0)

// Move-only owners, a copyable exception.
static_assert(!std::is_copy_constructible<vf::Config>::value, "Config is move-only");
static_assert(!std::is_copy_constructible<vf::Client>::value, "Client is move-only");
static_assert(!std::is_copy_constructible<vf::Token>::value, "Token is move-only");
static_assert(!std::is_copy_constructible<vf::TokenSource>::value, "TokenSource is move-only");
static_assert(std::is_nothrow_move_constructible<vf::Client>::value, "Client moves");
static_assert(std::is_nothrow_move_assignable<vf::Token>::value, "Token moves");
static_assert(std::is_base_of<std::runtime_error, vf::Error>::value, "Error is a runtime_error");
static_assert(std::is_copy_constructible<vf::Error>::value, "Error is copyable");

// Constructors that can take one argument are explicit (the compile-must-fail
// probes in cpp_must_not_compile.cpp show the same from the call site).
static_assert(!std::is_convertible<const vf::Client &, vf::TokenSource>::value, "TokenSource(client) is explicit");
static_assert(std::is_constructible<vf::TokenSource, const vf::Client &>::value, "TokenSource(client) exists");
static_assert(!std::is_convertible<const vf::Config &, vf::Client>::value, "Client(config) is explicit");
static_assert(!std::is_convertible<vf_token *, vf::Token>::value, "Token(vf_token *) is explicit");
static_assert(!std::is_convertible<vf_error *, vf::Error>::value, "Error(vf_error *) is explicit");
static_assert(std::is_constructible<vf::Error, vf_error *>::value, "Error(vf_error *) exists");

static std::string env(const char *name) {
    const char *v = std::getenv(name);
    if (v == nullptr) {
        std::cerr << name << " is not set: run under scripts/with-standin\n";
        std::exit(2);
    }
    return v;
}

static vf::Config standin_config(const std::string &secret, const std::string &url = env("VF_STANDIN_URL")) {
    vf::Config config;
    config.app_id(env("VF_STANDIN_APP_ID")).secret_key(secret).base_url(url).timeout_ms(10000);
    return config;
}

// "a" + NUL + "b": what C would read as "a".
static std::string with_nul(const std::string &a, const std::string &b) { return a + std::string(1, '\0') + b; }

// A loopback port where connections are refused: bound, never listening.
// The socket stays open (and the port taken) until the process ends.
static std::string refused_url() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = sockaddr_in();
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = inet_addr("127.0.0.1");
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&addr), len) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
        std::cerr << "cannot bind a loopback socket\n";
        std::exit(2);
    }
    return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// Runs `call`, which must throw Error with `status`; returns it.
template <typename F>
static vf::Error expect_error(vf::Status status, F call, int line) {
    try {
        call();
    } catch (const vf::Error &e) {
        if (e.status() != status) {
            std::cerr << __FILE__ << ":" << line << ": expected " << vf::status_name(status) << ", got "
                      << vf::status_name(e.status()) << ": " << e.what() << "\n";
            ++failures;
        }
        return e;
    }
    std::cerr << __FILE__ << ":" << line << ": expected " << vf::status_name(status) << ", nothing thrown\n";
    ++failures;
    return vf::Error(status, "nothing thrown");
}
#define EXPECT_ERROR(status, body) expect_error(status, [&]() { body; }, __LINE__)

// Every string on its way to C is refused when it holds a NUL: the value C
// would see is valid and shorter, so a cut-short secret, token or scope
// would otherwise be used without a word.
static void test_nul_in_strings(const vf::Client &client) {
    typedef vf::Config &(vf::Config::*StringSetter)(const std::string &);
    struct Setter {
        StringSetter setter;
        const char *name;
        std::string valid;
    } setters[] = {
        {&vf::Config::app_id, "app id", env("VF_STANDIN_APP_ID")},
        {&vf::Config::secret_key, "secret key", env("VF_STANDIN_SECRET_KEY")},
        {&vf::Config::cluster, "cluster", "api"},
        {&vf::Config::base_url, "base URL", env("VF_STANDIN_URL")},
        {&vf::Config::channel, "channel", "cpp"},
        {&vf::Config::user_agent_suffix, "user agent suffix", "cpp/1"},
        {&vf::Config::proxy, "proxy URL", "http://127.0.0.1:9"},
        {&vf::Config::ca_file, "CA file", "/etc/hosts"},
    };
    for (const Setter &s : setters) {
        vf::Config config;
        vf::Error e = EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, (config.*s.setter)(with_nul(s.valid, "tail")));
        CHECK(std::string(e.what()) == std::string("invalid ") + s.name + ": contains a NUL character");
        CHECK(e.attempts() == 0 && e.http_status() == 0);
    }
    vf::Config config;
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.add_header(with_nul("X-Cpp", "x"), "value"));
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.add_header("X-Cpp", with_nul("value", "x")));

    // The secret key cut short at the NUL is the right one: refused, it is
    // not set at all, and the client cannot be built.
    config.app_id(env("VF_STANDIN_APP_ID")).base_url(env("VF_STANDIN_URL"));
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.secret_key(with_nul(env("VF_STANDIN_SECRET_KEY"), "x")));
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, vf::Client unusable(config));

    // A live token followed by a NUL: refused, and still active afterwards.
    const std::string live = client.generate().access_token();
    vf::Error e = EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, client.revoke(with_nul(live, "x")));
    CHECK(std::string(e.what()).find(live) == std::string::npos);
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, client.introspect(with_nul(live, "x")));
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, client.generate(with_nul("api", "x")));
    EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, vf::TokenSource source(client, with_nul("api", "x")));
    const std::string other = client.generate().access_token();
    std::vector<std::string> tokens;
    tokens.push_back(with_nul(live, "x"));
    tokens.push_back(other);
    std::vector<vf::RevokeOutcome> outcomes = client.revoke_many(tokens);
    CHECK(outcomes.size() == 2);
    if (outcomes.size() == 2) {
        CHECK(outcomes[0].status == VF_STATUS_INVALID_ARGUMENT);
        CHECK(outcomes[0].error && outcomes[0].error->status() == VF_STATUS_INVALID_ARGUMENT);
        CHECK(outcomes[0].error && std::string(outcomes[0].error->what()).find("NUL") != std::string::npos);
        CHECK(outcomes[1].revoked());
    }
    CHECK(client.introspect(live).active);
    CHECK(!client.introspect(other).active);
    client.revoke(live);
}

static std::vector<std::string> mint_many(const vf::Client &client, std::size_t count) {
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < count; ++i)
        tokens.push_back(client.generate().access_token());
    return tokens;
}

// Bulk revoke with progress: one call per token; false stops it; an
// exception stops it and comes out of revoke_many(); cancel() stops all.
static void test_progress_and_cancel(const vf::Client &client) {
    std::vector<std::string> tokens = mint_many(client, 12);
    tokens[5] = with_nul(tokens[5], "x");  // refused before sending
    std::vector<std::size_t> seen;
    std::vector<vf::Status> statuses(tokens.size(), VF_STATUS_PANIC);
    std::vector<vf::RevokeOutcome> outcomes =
        client.revoke_many(tokens, 3, [&](std::size_t index, vf::Status status) {
            seen.push_back(index);
            if (index < statuses.size())
                statuses[index] = status;
            return true;
        });
    CHECK(seen.size() == tokens.size());
    CHECK(std::set<std::size_t>(seen.begin(), seen.end()).size() == tokens.size());
    CHECK(!seen.empty() && seen[0] == 5);  // refused entries are reported first
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        CHECK(statuses[i] == outcomes[i].status);
    CHECK(outcomes.size() == tokens.size() && outcomes[5].status == VF_STATUS_INVALID_ARGUMENT);
    CHECK(outcomes[0].revoked() && outcomes[11].revoked());

    // Stopped at the third report, two at a time: at most one more is sent.
    tokens = mint_many(client, 12);
    std::size_t calls = 0;
    outcomes = client.revoke_many(tokens, 2, [&](std::size_t, vf::Status) { return ++calls < 3; });
    std::size_t revoked = 0, cancelled = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (outcomes[i].revoked()) {
            ++revoked;
        } else if (outcomes[i].status == VF_STATUS_CANCELLED) {
            ++cancelled;
            CHECK(outcomes[i].error && outcomes[i].error->attempts() == 0);
            CHECK(client.introspect(tokens[i]).active);  // never sent
            client.revoke(tokens[i]);
        }
    }
    CHECK(calls == revoked);
    CHECK(revoked >= 3 && revoked <= 4);
    CHECK(revoked + cancelled == tokens.size());

    // An exception from the callback stops the operation, then comes out.
    tokens = mint_many(client, 6);
    calls = 0;
    try {
        client.revoke_many(tokens, 1, [&](std::size_t, vf::Status) -> bool {
            if (++calls == 2)
                throw std::logic_error("from the progress callback");
            return true;
        });
        CHECK(!"the callback's exception was swallowed");
    } catch (const std::logic_error &e) {
        CHECK(std::string(e.what()) == "from the progress callback");
    }
    CHECK(calls == 2);
    std::size_t active = 0;
    for (const std::string &t : tokens) {
        if (client.introspect(t).active) {
            ++active;
            client.revoke(t);
        }
    }
    CHECK(active == 4);  // one at a time: stopped after the second

    // cancel(): retry waits end at once, bulk revokes send nothing more.
    vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"), refused_url());
    // A wait that fits in the 10 s total timeout: one longer is not begun.
    config.max_attempts(3).retry_base_delay_ms(5000);
    vf::Client doomed(config);
    doomed.cancel();
    vf::Error e = EXPECT_ERROR(VF_STATUS_CANCELLED, doomed.revoke("some-token"));
    CHECK(e.attempts() == 1);  // the first attempt still goes out
    vf::Client cancelled_client(standin_config(env("VF_STANDIN_SECRET_KEY")));
    cancelled_client.cancel();
    tokens = mint_many(client, 3);
    outcomes = cancelled_client.revoke_many(tokens);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        CHECK(outcomes[i].status == VF_STATUS_CANCELLED);
        CHECK(client.introspect(tokens[i]).active);
        client.revoke(tokens[i]);
    }
}

// Counters: what a fresh client did, counted as the stand-in answered.
static void test_counters() {
    vf::Client client(standin_config(env("VF_STANDIN_SECRET_KEY")));
    vf::Counters c = client.counters();
    CHECK(c.size == sizeof(vf::Counters) && c.calls == 0 && c.requests == 0 && c.connections_opened == 0);
    const std::string token = client.generate().access_token();
    client.revoke(token);
    EXPECT_ERROR(VF_STATUS_TOKEN_NOT_FOUND, client.revoke(token));
    c = client.counters();
    CHECK(c.calls == 3 && c.requests == 3 && c.retries == 0);
    CHECK(c.answers_2xx == 2 && c.answers_4xx == 1 && c.answers_5xx == 0 && c.rate_limited == 0);
    CHECK(c.connections_opened == 1);  // kept alive

    // A token source's own: nothing cached, then one token minted and renewed.
    vf::TokenSource source(client);
    vf::SourceCounters s = source.counters();
    CHECK(s.size == sizeof(vf::SourceCounters) && s.mints == 0 && s.expires_in_s == -1);
    source.refresh_rejected(source.access_token());
    s = source.counters();
    CHECK(s.mints == 2 && s.renewals == 1 && s.mint_failures == 0 && s.renewal_failures == 0);
    CHECK(s.expires_in_s >= 898 && s.expires_in_s <= 900);
}

// Logging through a std::function: the records arrive at their levels, the
// function outlives the Config it was set on, and a throwing one is harmless.
static void test_logging() {
    std::mutex lock;
    std::vector<std::pair<vf_log_level, std::string> > records;
    const std::string secret_key = env("VF_STANDIN_SECRET_KEY");
    std::unique_ptr<vf::Client> client;
    {
        vf::Config config = standin_config(secret_key);
        config.log(
            [&](vf_log_level level, const std::string &text) {
                std::lock_guard<std::mutex> guard(lock);
                records.push_back(std::make_pair(level, text));
            },
            VF_LOG_LEVEL_DEBUG);
        client.reset(new vf::Client(config));
    }  // the config is gone; the client keeps the function alive
    const std::string token = client->generate().access_token();
    client->revoke(token);
    bool sent = false, answered = false, minted = false;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const std::string &text = records[i].second;
        sent |= records[i].first == VF_LOG_LEVEL_DEBUG && text.find("sending, attempt 1 of") != std::string::npos;
        answered |= records[i].first == VF_LOG_LEVEL_DEBUG && text.find("HTTP 204 in") != std::string::npos;
        minted |= records[i].first == VF_LOG_LEVEL_INFO && text.find("token minted") != std::string::npos;
        CHECK(text.find(secret_key) == std::string::npos && text.find(token) == std::string::npos);
    }
    CHECK(sent && answered && minted);
    CHECK(records.size() >= 5);

    vf::Config throwing = standin_config(secret_key);
    throwing.log([](vf_log_level, const std::string &) { throw std::runtime_error("from the log"); },
                 VF_LOG_LEVEL_TRACE);
    vf::Client quiet(throwing);
    quiet.revoke(quiet.generate().access_token());  // no exception escapes into the library
    throwing.log(vf::LogFunction());                 // removed
}

// Retries, proxies: the settings reach the library and change what it does.
static void test_retries_and_proxies() {
    const std::string refused = refused_url();
    {
        vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"), refused);
        config.max_attempts(3).retry_base_delay_ms(1);
        vf::Client client(config);
        vf::Error e = EXPECT_ERROR(VF_STATUS_CONNECTION_FAILED, client.revoke("some-token"));
        CHECK(e.attempts() == 3);
        const vf::Counters c = client.counters();
        CHECK(c.requests == 3 && c.retries == 2 && c.connection_failures == 3 && c.answers_2xx == 0);
        config.max_attempts(1);
        vf::Client once(config);
        e = EXPECT_ERROR(VF_STATUS_CONNECTION_FAILED, once.revoke("some-token"));
        CHECK(e.attempts() == 1);
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.max_attempts(0));
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.max_attempts(11));
    }
    // Through a proxy that refuses: the stand-in itself is up, so the
    // failure shows that the request went to the proxy. The proxy's
    // password stays out of the message.
    const char *proxy_variables[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                     "ALL_PROXY",  "all_proxy",  "NO_PROXY",    "no_proxy"};
    for (const char *name : proxy_variables)
        unsetenv(name);
    vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"));
    config.max_attempts(1).allow_insecure_http(true);
    const std::string proxy = "http://user:proxy-canary-pw@" + refused.substr(std::string("http://").size());
    {
        config.proxy(proxy);
        vf::Client client(config);
        vf::Error e = EXPECT_ERROR(VF_STATUS_CONNECTION_FAILED, client.generate());
        CHECK(std::string(e.what()).find("proxy-canary-pw") == std::string::npos);
    }
    config.proxy_from_env(false);
    setenv("ALL_PROXY", proxy.c_str(), 1);
    {
        vf::Client client(config);  // the proxy set above still applies
        EXPECT_ERROR(VF_STATUS_CONNECTION_FAILED, client.generate());
    }
    vf::Config from_env = standin_config(env("VF_STANDIN_SECRET_KEY"));
    from_env.max_attempts(1).allow_insecure_http(true);
    {
        vf::Client direct(from_env);  // environment ignored by default
        direct.revoke(direct.generate().access_token());
        from_env.proxy_from_env(true);
        vf::Client client(from_env);
        vf::Error e = EXPECT_ERROR(VF_STATUS_CONNECTION_FAILED, client.generate());
        CHECK(std::string(e.what()).find("proxy-canary-pw") == std::string::npos);
    }
    unsetenv("ALL_PROXY");
}

// TLS against the stand-in serving HTTPS with a certificate from its own CA.
static void test_tls() {
    const std::string url = env("VF_TLS_STANDIN_URL"), ca = env("VF_TLS_CA_FILE");
    {
        vf::Client client(standin_config(env("VF_STANDIN_SECRET_KEY"), url));  // system store: unknown CA
        EXPECT_ERROR(VF_STATUS_TLS_ERROR, client.generate());
    }
    {
        vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"), url);
        config.ca_file(ca);
        vf::Client client(config);
        client.revoke(client.generate().access_token());
    }
    {
        vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"), url);
        config.tls_roots(VF_TLS_ROOTS_MOZILLA);
        vf::Client mozilla(config);
        EXPECT_ERROR(VF_STATUS_TLS_ERROR, mozilla.generate());
        config.ca_file(ca);
        vf::Client with_ca(config);
        with_ca.revoke(with_ca.generate().access_token());
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.tls_roots(static_cast<vf::TlsRoots>(7)));
        config.ca_file("/nonexistent/ca.pem");
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, vf::Client unreadable(config));
    }
}

// The stand-in's rate limit, as cpp.sh starts it (--rate-limit CALLS/SECS).
static std::int64_t env_number(const char *name) { return std::atoll(env(name).c_str()); }

static void check_rate_limit(const vf::RateLimit &r, std::int64_t now) {
    CHECK(r.limit == env_number("VF_STANDIN_RATE_LIMIT"));
    CHECK(r.remaining >= 0 && r.remaining < r.limit);
    CHECK(r.retry_at > now - 2 && r.retry_at <= now + env_number("VF_STANDIN_RATE_WINDOW") + 1);
    CHECK(r.type == "api_calls");
}

static int report() {
    if (failures != 0) {
        std::cerr << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << "cpp_test: all checks passed\n";
    return 0;
}

int main(int argc, char **argv) {
    // Valgrind reports false positives in ring's assembly once TLS records
    // are decrypted: cpp.sh runs this part natively.
    if (argc > 1 && std::string(argv[1]) == "--tls") {
        test_tls();
        return report();
    }
    CHECK(vf::version() == VF_VERSION);
    CHECK(vf::version_number() == VF_VERSION_NUMBER);
    CHECK(vf::version_number() == VF_VERSION_MAJOR * 10000 + VF_VERSION_MINOR * 100 + VF_VERSION_PATCH);
    CHECK(vf::status_name(VF_STATUS_TIMEOUT) == "VF_STATUS_TIMEOUT");

    // Invalid arguments throw before anything is sent.
    {
        vf::Config config;
        vf::Error e = EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.app_id("has space"));
        CHECK(e.http_status() == 0);
        CHECK(e.attempts() == 0);
        CHECK(e.rate_limit().limit == -1 && e.rate_limit().remaining == -1 && e.rate_limit().retry_at == -1);
        CHECK(e.rate_limit().type.empty());
        CHECK(std::string(e.what()).find("app") != std::string::npos);
        vf::Config empty;
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, vf::Client client(empty));  // no credentials
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, config.add_header("X-App-Token", "not-replaceable"));
    }
    // An error object from C code becomes an Error with the status it holds.
    {
        vf::Config config;
        vf_error *raw = nullptr;
        CHECK(vf_config_set_timeout_ms(config.get(), 0, &raw) == VF_STATUS_INVALID_ARGUMENT);
        const vf::Error e(raw);  // takes it over and frees it (valgrind checks)
        CHECK(e.status() == VF_STATUS_INVALID_ARGUMENT);
        CHECK(std::string(e.what()).find("timeout") != std::string::npos);
    }

    // The header cpp.sh finds in the stand-in's log, one value per C++ standard.
    vf::Config config = standin_config(env("VF_STANDIN_SECRET_KEY"));
    config.add_header("X-Cpp-Test", std::to_string(__cplusplus)).connect_timeout_ms(5000);
    vf::Client client(config);

    // Mint, introspect, revoke, then not found.
    vf::Token token = client.generate("api");
    CHECK(static_cast<bool>(token));
    CHECK(!token.access_token().empty());
    CHECK(token.type() == "Bearer");
    CHECK(token.expires_in() > 0);
    const std::string secret = token.access_token();
    vf::Introspection info = client.introspect(secret);
    CHECK(info.active);
    CHECK(static_cast<bool>(info.token));
    client.revoke(secret);
    CHECK(!client.introspect(secret).active);
    {
        vf::Error e = EXPECT_ERROR(VF_STATUS_TOKEN_NOT_FOUND, client.revoke(secret));
        CHECK(e.http_status() == 404);
        CHECK(e.attempts() == 1);
        check_rate_limit(e.rate_limit(), std::time(nullptr));
        vf::Error copy = e;  // a plain value: copies keep every detail
        CHECK(copy.status() == VF_STATUS_TOKEN_NOT_FOUND);
        CHECK(std::string(copy.what()) == e.what());
        CHECK(copy.rate_limit().remaining == e.rate_limit().remaining);
    }

    // Moves: the moved-from token is empty, the moved-to one works.
    vf::Token moved = std::move(token);
    CHECK(!token);  // NOLINT(bugprone-use-after-move): checked on purpose
    CHECK(token.access_token().empty());
    CHECK(moved.access_token() == secret);
    vf::Client other = std::move(client);
    EXPECT_ERROR(VF_STATUS_NULL_ARGUMENT, client.revoke("x"));  // moved-from: the library's NULL check

    // Bulk revoke: one outcome per token, in order.
    std::vector<std::string> tokens;
    tokens.push_back(other.generate().access_token());
    tokens.push_back(secret);  // already revoked
    tokens.push_back(other.generate().access_token());
    std::vector<vf::RevokeOutcome> outcomes = other.revoke_many(tokens, 2);
    CHECK(outcomes.size() == 3);
    if (outcomes.size() == 3) {
        CHECK(outcomes[0].revoked() && !outcomes[0].error);
        CHECK(outcomes[1].status == VF_STATUS_TOKEN_NOT_FOUND);
        CHECK(outcomes[1].error && outcomes[1].error->http_status() == 404);
        CHECK(outcomes[2].revoked());
    }

    // The client's latest rate-limit headers: the stand-in's values, and
    // one call later one fewer left (or a new window begun). First one
    // call alone: the bulk revoke's answers may arrive out of order.
    other.introspect(tokens[0]);
    CHECK(other.paused_until_ms() == -1);  // far from the stand-in's limit
    const vf::RateLimit before = other.rate_limit();
    check_rate_limit(before, std::time(nullptr));
    other.introspect(tokens[0]);
    const vf::RateLimit after = other.rate_limit();
    check_rate_limit(after, std::time(nullptr));
    if (after.retry_at == before.retry_at)
        CHECK(after.remaining == before.remaining - 1);
    else
        CHECK(after.retry_at > before.retry_at && after.remaining == after.limit - 1);

    // Wrong secret key: 401, with Voucherify's key and request_id.
    {
        vf::Client wrong(standin_config("wrong-secret-key"));
        vf::Error e = EXPECT_ERROR(VF_STATUS_UNAUTHORIZED, wrong.generate());
        CHECK(e.http_status() == 401);
        CHECK(e.key() == "unauthorized");
        CHECK(!e.request_id().empty());
        CHECK(std::string(e.what()).find("wrong-secret-key") == std::string::npos);
    }

    // Token source: the same token until refreshed; revoked when destroyed.
    std::string first, second, third;
    {
        vf::TokenSource source(other, "api");
        source.refresh_margin_ms(1000);
        first = source.access_token();
        CHECK(!first.empty());
        CHECK(source.access_token() == first);
        CHECK(source.authorization() == "Bearer " + first);
        CHECK(other.introspect(first).active);
        source.refresh();
        second = source.access_token();
        CHECK(second != first);
        // A 401 with the current token: a new one; with a replaced one: the current.
        third = source.refresh_rejected(second);
        CHECK(third != second && !third.empty());
        CHECK(source.refresh_rejected(second) == third);
        vf::TokenSource moved_source = std::move(source);
        CHECK(moved_source.access_token() == third);
        CHECK(other.introspect(third).active);
        EXPECT_ERROR(VF_STATUS_INVALID_ARGUMENT, moved_source.refresh_rejected(with_nul(third, "x")));
        CHECK(moved_source.access_token() == third);  // not cut short to `third` and replaced
    }
    CHECK(!other.introspect(third).active);  // revoked by the destructor
    // Replaced tokens are not revoked (requests in flight may carry them).
    CHECK(other.introspect(first).active && other.introspect(second).active);
    other.revoke(first);
    other.revoke(second);
    {
        vf::TokenSource kept(other);
        kept.revoke_on_free(false);
        first = kept.access_token();
    }
    CHECK(other.introspect(first).active);  // revoke_on_free(false) kept it
    other.revoke(first);

    test_nul_in_strings(other);
    test_counters();
    test_logging();
    test_retries_and_proxies();
    test_progress_and_cancel(other);
    return report();
}
