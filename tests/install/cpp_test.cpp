// Tests of bindings/cpp/voucherify.hpp against the stand-in (run by
// tests/install/cpp.sh under valgrind, built as C++11, C++17 and C++20).
#include <cstdlib>
#include <iostream>
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

static std::string env(const char *name) {
    const char *v = std::getenv(name);
    if (v == nullptr) {
        std::cerr << name << " is not set: run under scripts/with-standin\n";
        std::exit(2);
    }
    return v;
}

static vf::Config standin_config(const std::string &secret) {
    vf::Config config;
    config.app_id(env("VF_STANDIN_APP_ID")).secret_key(secret).base_url(env("VF_STANDIN_URL")).timeout_ms(10000);
    return config;
}

int main() {
    CHECK(vf::version() == VF_VERSION);
    CHECK(vf::status_name(VF_STATUS_TIMEOUT) == "VF_STATUS_TIMEOUT");

    // Invalid arguments throw before anything is sent.
    try {
        vf::Config config;
        config.app_id("has space");
        CHECK(!"app_id with a space accepted");
    } catch (const vf::Error &e) {
        CHECK(e.status() == VF_STATUS_INVALID_ARGUMENT);
        CHECK(e.http_status() == 0);
        CHECK(std::string(e.what()).find("app") != std::string::npos);
    }
    try {
        vf::Config empty;
        vf::Client client(empty);  // no credentials
        CHECK(!"client without credentials");
    } catch (const vf::Error &e) {
        CHECK(e.status() == VF_STATUS_INVALID_ARGUMENT);
    }

    vf::Client client(standin_config(env("VF_STANDIN_SECRET_KEY")));

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
    try {
        client.revoke(secret);
        CHECK(!"second revoke succeeded");
    } catch (const vf::Error &e) {
        CHECK(e.status() == VF_STATUS_TOKEN_NOT_FOUND);
        CHECK(e.http_status() == 404);
        vf::Error copy = e;  // a plain value: copies keep every detail
        CHECK(copy.status() == VF_STATUS_TOKEN_NOT_FOUND);
        CHECK(std::string(copy.what()) == e.what());
    }

    // Moves: the moved-from token is empty, the moved-to one works.
    vf::Token moved = std::move(token);
    CHECK(!token);  // NOLINT(bugprone-use-after-move): checked on purpose
    CHECK(token.access_token().empty());
    CHECK(moved.access_token() == secret);
    vf::Client other = std::move(client);
    try {
        client.revoke("x");  // moved-from: the library's NULL check, no crash
        CHECK(!"moved-from client worked");
    } catch (const vf::Error &e) {
        CHECK(e.status() == VF_STATUS_NULL_ARGUMENT);
    }

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
    vf::RateLimit limits = other.rate_limit();
    CHECK(limits.limit >= -1 && limits.remaining >= -1);

    // Wrong secret key: 401, with Voucherify's key and request_id.
    try {
        vf::Client wrong(standin_config("wrong-secret-key"));
        wrong.generate();
        CHECK(!"wrong secret key accepted");
    } catch (const vf::Error &e) {
        CHECK(e.status() == VF_STATUS_UNAUTHORIZED);
        CHECK(e.http_status() == 401);
        CHECK(e.key() == "unauthorized");
        CHECK(!e.request_id().empty());
        CHECK(std::string(e.what()).find("wrong-secret-key") == std::string::npos);
    }

    // Token source: the same token until refreshed; revoked when destroyed.
    std::string first;
    {
        vf::TokenSource source(other, "api");
        source.refresh_margin_ms(1000);
        first = source.access_token();
        CHECK(!first.empty());
        CHECK(source.access_token() == first);
        CHECK(source.authorization() == "Bearer " + first);
        CHECK(other.introspect(first).active);
        source.refresh();
        const std::string second = source.access_token();
        CHECK(second != first);
        // A 401 with the current token: a new one; with a replaced one: the current.
        const std::string third = source.refresh_rejected(second);
        CHECK(third != second && !third.empty());
        CHECK(source.refresh_rejected(second) == third);
        vf::TokenSource moved_source = std::move(source);
        CHECK(moved_source.access_token() == third);
    }
    {
        vf::TokenSource kept(other);
        kept.revoke_on_free(false);
        first = kept.access_token();
    }
    CHECK(other.introspect(first).active);  // revoke_on_free(false) kept it
    other.revoke(first);

    if (failures != 0) {
        std::cerr << failures << " check(s) failed\n";
        return 1;
    }
    std::cout << "cpp_test: all checks passed\n";
    return 0;
}
