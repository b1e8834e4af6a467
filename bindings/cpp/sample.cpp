// sample: mint a token, check it, revoke it, and show a token source.
//
//   VOUCHERIFY_APP_ID=... VOUCHERIFY_SECRET_KEY=... sample [SCOPE]
//   (VOUCHERIFY_API_URL or VOUCHERIFY_CLUSTER pick the server.)
//
// Build: c++ -std=c++11 sample.cpp $(pkg-config --cflags --libs voucherify)
//   (with bindings/cpp/voucherify.hpp on the include path)
#include <iostream>

#include "voucherify.hpp"

int main(int argc, char **argv) {
    const std::string scope = argc > 1 ? argv[1] : "api";
    try {
        voucherify::Config config;
        config.load_env().user_agent_suffix("cpp-sample/1.0");
        voucherify::Client client(config);

        voucherify::Token token = client.generate(scope);
        std::cout << "minted a " << token.type() << " token for \"" << token.scope()
                  << "\", valid " << token.expires_in() << " s\n";
        std::cout << "active: " << std::boolalpha << client.introspect(token.access_token()).active << "\n";
        client.revoke(token.access_token());
        std::cout << "revoked; active now: " << client.introspect(token.access_token()).active << "\n";

        try {
            client.revoke(token.access_token());
        } catch (const voucherify::Error &e) {
            if (e.status() != VF_STATUS_TOKEN_NOT_FOUND)
                throw;
            std::cout << "revoking again: already gone (HTTP " << e.http_status() << ")\n";
        }

        // A token source for the rest of the API: mints on first use, and
        // revokes its token when it goes out of scope.
        voucherify::TokenSource source(client, scope);
        const std::string header = source.authorization();  // a secret: not printed
        std::cout << "token source: Authorization header of " << header.size() << " characters\n";
    } catch (const voucherify::Error &e) {
        std::cerr << "failed: " << e.what() << "\n";
        if (!e.request_id().empty())
            std::cerr << "  request_id: " << e.request_id() << "\n";
        return 1;
    }
    return 0;
}
