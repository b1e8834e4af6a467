// Compile-must-fail probes of bindings/cpp/voucherify.hpp, run by
// tests/install/cpp.sh with g++ (the expected diagnostics are GCC's).
//
// Each `#ifdef PROBE_<name>` block holds one line that must not compile;
// its `// expect:` comment is an extended regex that GCC's first error must
// match, reported at that very line. cpp.sh also compiles the file with no
// probe defined, which must succeed: so each failure is due to the probed
// line alone, and a probe that stopped failing is noticed.
#include "voucherify.hpp"

namespace vf = voucherify;

void takes_source(const vf::TokenSource &source);
void takes_client(const vf::Client &client);
void takes_token(const vf::Token &token);
void takes_error(const vf::Error &error);

void probes(vf::Config &config, vf::Client &client, vf::Token &token, vf::TokenSource &source, vf_token *raw_token,
            vf_error *raw_error) {
    // Move-only owners: a copy would be a second owner of one C object.
#ifdef PROBE_copy_config  // expect: use of deleted function .*Config::Config\(const voucherify::Config&\)
    vf::Config copy = config;
#endif
#ifdef PROBE_copy_client  // expect: use of deleted function .*Client::Client\(const voucherify::Client&\)
    vf::Client copy(client);
#endif
#ifdef PROBE_assign_token  // expect: use of deleted function .*Token::operator=\(const voucherify::Token&\)
    token = static_cast<const vf::Token &>(token);
#endif
#ifdef PROBE_copy_source  // expect: use of deleted function .*TokenSource::TokenSource\(const voucherify::TokenSource&\)
    vf::TokenSource copy = source;
#endif
    // Explicit constructors: f(client) must not mint a temporary source that
    // revokes its token when the call ends, and so on.
#ifdef PROBE_client_to_source  // expect: invalid initialization of reference of type .const voucherify::TokenSource&. from expression of type .voucherify::Client.
    takes_source(client);
#endif
#ifdef PROBE_client_to_source_copy_init  // expect: conversion from .voucherify::Client. to non-scalar type .voucherify::TokenSource. requested
    vf::TokenSource temporary = client;
#endif
#ifdef PROBE_config_to_client  // expect: invalid initialization of reference of type .const voucherify::Client&. from expression of type .voucherify::Config.
    takes_client(config);
#endif
#ifdef PROBE_pointer_to_token  // expect: invalid initialization of reference of type .const voucherify::Token&. from expression of type .vf_token\*.
    takes_token(raw_token);
#endif
#ifdef PROBE_pointer_to_error  // expect: invalid initialization of reference of type .const voucherify::Error&. from expression of type .vf_error\*.
    takes_error(raw_error);
#endif
    (void)config, (void)client, (void)token, (void)source, (void)raw_token, (void)raw_error;
}
