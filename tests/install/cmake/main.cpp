// Revokes the token given as argv[1] through the C++ wrapper, with the
// credentials of the environment (VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY,
// VOUCHERIFY_API_URL). Exits as main.c and bindings/c/revoke_token.c do:
// 0 and "revoked"; 3 and "not found" for the revoke 404; 2 for a bad
// command line; 1 for any other failure. Built as C++11 by the target
// voucherify::voucherify_cpp alone.
#include <iostream>

#include <voucherify.hpp>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " ACCESS_TOKEN\n";
        return 2;
    }
    if (voucherify::version() != VF_VERSION) {
        std::cerr << "header " << VF_VERSION << " but library " << voucherify::version() << "\n";
        return 1;
    }
    try {
        voucherify::Config config;
        config.load_env();
        voucherify::Client(config).revoke(argv[1]);
    } catch (const voucherify::Error &e) {
        if (e.status() == VF_STATUS_TOKEN_NOT_FOUND) {
            std::cout << "not found\n";
            return 3;
        }
        std::cerr << voucherify::status_name(e.status()) << ": " << e.what() << "\n";
        return 1;
    }
    std::cout << "revoked\n";
    return 0;
}
