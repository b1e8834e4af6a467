/*
 * test_capi: walks every status and every bad input of the libvoucherify
 * C API against the local stand-in (run it with tests/c/run.sh, which sets
 * VF_STANDIN_URL, VF_STANDIN_APP_ID and VF_STANDIN_SECRET_KEY).
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, sockets */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

/* ---- helpers ------------------------------------------------------------ */

/* A loopback port nobody listens on: bind to port 0, note it, close. */
static int unused_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0
        && getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Mints a token and checks the client revokes it (OK), NULL client skipped. */
static void check_revokes(const vf_client *client)
{
    char *token = mint_token();

    CHECK(token != NULL);
    if (client != NULL && token != NULL)
        CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    free(token);
}

/* ---- tests --------------------------------------------------------------- */

static void test_version_and_names(void)
{
    /* Stringizing the enum constants compares against the header's names. */
#define NAME(s) { s, #s }
    static const struct { vf_status status; const char *name; } names[] = {
        NAME(VF_STATUS_OK), NAME(VF_STATUS_NULL_ARGUMENT),
        NAME(VF_STATUS_INVALID_ARGUMENT), NAME(VF_STATUS_INVALID_UTF8),
        NAME(VF_STATUS_TOKEN_NOT_FOUND), NAME(VF_STATUS_BAD_REQUEST),
        NAME(VF_STATUS_UNAUTHORIZED), NAME(VF_STATUS_FORBIDDEN),
        NAME(VF_STATUS_RATE_LIMITED), NAME(VF_STATUS_SERVER_ERROR),
        NAME(VF_STATUS_UNEXPECTED_RESPONSE), NAME(VF_STATUS_TIMEOUT),
        NAME(VF_STATUS_CONNECTION_FAILED), NAME(VF_STATUS_TLS_ERROR),
        /*
         * PANIC and INTERNAL cannot be provoked through the C API of a
         * correct build; the Rust tests cover the panic boundary. Here we
         * only check their names.
         */
        NAME(VF_STATUS_PANIC), NAME(VF_STATUS_INTERNAL),
        NAME(VF_STATUS_CANCELLED), NAME(VF_STATUS_QUOTA_EXCEEDED),
    };
#undef NAME
    size_t i;

    CHECK(str_eq(vf_version(), VF_VERSION));
    CHECK(sizeof names / sizeof names[0] == 18);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK((int)names[i].status == (int)i); /* values are 0..17 in order */
        if (!CHECK(str_eq(vf_status_str((int)names[i].status), names[i].name)))
            fprintf(stderr, "    status %d is named %s\n", (int)i, vf_status_str((int)i));
    }
    CHECK(str_eq(vf_status_str(-1), "VF_STATUS_UNKNOWN"));
    CHECK(str_eq(vf_status_str(18), "VF_STATUS_UNKNOWN"));
    CHECK(str_eq(vf_status_str(9999), "VF_STATUS_UNKNOWN"));
}

static void test_null_arguments(void)
{
    vf_config *cfg = standin_config();
    vf_client *client = NULL;
    vf_client *none = NULL;

    /* Freeing NULL is fine; accessors on NULL give their "nothing" value. */
    vf_error_free(NULL);
    vf_config_free(NULL);
    vf_client_free(NULL);
    CHECK_STATUS(vf_error_status(NULL), VF_STATUS_NULL_ARGUMENT);
    CHECK(vf_error_message(NULL) == NULL);
    CHECK(vf_error_http_status(NULL) == 0);
    CHECK(vf_error_key(NULL) == NULL);
    CHECK(vf_error_api_message(NULL) == NULL);
    CHECK(vf_error_details(NULL) == NULL);
    CHECK(vf_error_request_id(NULL) == NULL);

    CHECK_NULL_ARG(vf_config_set_app_id(NULL, "app", err_out));
    CHECK_NULL_ARG(vf_config_set_app_id(cfg, NULL, err_out));
    CHECK_NULL_ARG(vf_config_set_secret_key(NULL, "secret", err_out));
    CHECK_NULL_ARG(vf_config_set_secret_key(cfg, NULL, err_out));
    CHECK_NULL_ARG(vf_config_set_cluster(NULL, "api", err_out));
    CHECK_NULL_ARG(vf_config_set_cluster(cfg, NULL, err_out));
    CHECK_NULL_ARG(vf_config_set_base_url(NULL, "https://example.com", err_out));
    CHECK_NULL_ARG(vf_config_set_base_url(cfg, NULL, err_out));
    CHECK_NULL_ARG(vf_config_set_allow_insecure_http(NULL, true, err_out));
    CHECK_NULL_ARG(vf_config_set_connect_timeout_ms(NULL, 1000, err_out));
    CHECK_NULL_ARG(vf_config_set_timeout_ms(NULL, 1000, err_out));
    CHECK_NULL_ARG(vf_config_set_channel(NULL, "c", err_out));
    CHECK_NULL_ARG(vf_config_set_user_agent_suffix(NULL, "s/1", err_out));
    CHECK_NULL_ARG(vf_config_load_env(NULL, err_out));
    CHECK_NULL_ARG(vf_client_new(NULL, &none, err_out));
    CHECK_NULL_ARG(vf_client_new(cfg, NULL, err_out));
    CHECK(none == NULL); /* out-parameters are written only on success */

    /* For channel and suffix NULL is documented as "none", not an error. */
    CHECK_STATUS(vf_config_set_channel(cfg, NULL, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_user_agent_suffix(cfg, NULL, NULL), VF_STATUS_OK);

    client = client_from(cfg);
    CHECK_NULL_ARG(vf_revoke_token(NULL, "some-token", err_out));
    if (client != NULL)
        CHECK_NULL_ARG(vf_revoke_token(client, NULL, err_out));
    vf_client_free(client);
}

/*
 * A setter that must fail with `want` on a fresh config, with and without
 * err_out. Messages may quote a bad cluster or URL, but never a secret key.
 */
#define CHECK_SETTER_FAILS(setter, value, want)                                  \
    do {                                                                         \
        vf_config *c = vf_config_new();                                          \
        vf_error *err = NULL;                                                    \
        const char *hidden = setter == vf_config_set_secret_key ? value : NULL;  \
        CHECK_STATUS(setter(c, value, NULL), want);                              \
        CHECK_ERROR(setter(c, value, &err), err, want, 0, hidden);               \
        vf_config_free(c);                                                       \
    } while (0)

static void test_bad_input(void)
{
    long before = request_count();
    vf_client *client = client_from(standin_config());
    vf_config *cfg;
    vf_client *none = NULL;
    vf_error *err = NULL;

    CHECK(before >= 0);

    /* Invalid UTF-8 in any string argument. */
    CHECK_SETTER_FAILS(vf_config_set_app_id, "\xff\xfe", VF_STATUS_INVALID_UTF8);
    CHECK_SETTER_FAILS(vf_config_set_secret_key, "\xff\xfe", VF_STATUS_INVALID_UTF8);
    CHECK_SETTER_FAILS(vf_config_set_cluster, "\xff\xfe", VF_STATUS_INVALID_UTF8);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "https://\xff\xfe", VF_STATUS_INVALID_UTF8);
    CHECK_SETTER_FAILS(vf_config_set_channel, "\xff\xfe", VF_STATUS_INVALID_UTF8);
    CHECK_SETTER_FAILS(vf_config_set_user_agent_suffix, "\xff\xfe", VF_STATUS_INVALID_UTF8);

    /* Values that would break or inject headers, or are simply wrong. */
    CHECK_SETTER_FAILS(vf_config_set_app_id, "", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_app_id, "app\n", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_app_id, "app id", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_secret_key, "", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_secret_key, "s3cr3t\r\nX-Evil: 1", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_channel, "chan\r\nX-Evil: 1", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_user_agent_suffix, "ua\r\nX-Evil: 1", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_cluster, "eu2.api", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_cluster, "", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "not a url", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "ftp://example.com", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "https://user:pw@example.com", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "https://example.com/?q=1", VF_STATUS_INVALID_ARGUMENT);
    CHECK_SETTER_FAILS(vf_config_set_base_url, "https://example.com/#frag", VF_STATUS_INVALID_ARGUMENT);

    /* Timeouts must be at least 1 ms. */
    cfg = vf_config_new();
    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 0, NULL), VF_STATUS_INVALID_ARGUMENT);
    CHECK_ERROR(vf_config_set_timeout_ms(cfg, 0, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK_STATUS(vf_config_set_connect_timeout_ms(cfg, 0, NULL), VF_STATUS_INVALID_ARGUMENT);
    CHECK_ERROR(vf_config_set_connect_timeout_ms(cfg, 0, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_connect_timeout_ms(cfg, 1, NULL), VF_STATUS_OK);
    vf_config_free(cfg);

    /* Every documented cluster is accepted; the export-download hosts,
     * which do not serve OAuth, are not clusters. */
    cfg = vf_config_new();
    CHECK_STATUS(vf_config_set_cluster(cfg, "api", NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_cluster(cfg, "us1.api", NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_cluster(cfg, "as1.api", NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_cluster(cfg, "download", NULL), VF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(vf_config_set_cluster(cfg, "us1.download", NULL), VF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(vf_config_set_cluster(cfg, "as1.download", NULL), VF_STATUS_INVALID_ARGUMENT);

    /* Missing credentials are caught by vf_client_new. */
    CHECK_ERROR(vf_client_new(cfg, &none, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK_STATUS(vf_config_set_app_id(cfg, standin_app_id, NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &none, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK_STATUS(vf_client_new(cfg, &none, NULL), VF_STATUS_INVALID_ARGUMENT);
    vf_config_free(cfg);
    cfg = vf_config_new();
    CHECK_STATUS(vf_config_set_secret_key(cfg, standin_secret, NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &none, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK(none == NULL);

    /* Plain http to a non-loopback host needs the explicit opt-in. */
    CHECK_STATUS(vf_config_set_tls_roots(cfg, VF_TLS_ROOTS_MOZILLA, NULL), VF_STATUS_OK); /* quicker */
    CHECK_STATUS(vf_config_set_app_id(cfg, standin_app_id, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_base_url(cfg, "http://example.com", NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &none, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK(none == NULL);
    CHECK_STATUS(vf_config_set_allow_insecure_http(cfg, true, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_client_new(cfg, &none, NULL), VF_STATUS_OK);
    vf_client_free(none);
    none = NULL;
    CHECK_STATUS(vf_config_set_allow_insecure_http(cfg, false, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_client_new(cfg, &none, NULL), VF_STATUS_INVALID_ARGUMENT);
    vf_config_free(cfg);

    /* Bad tokens are refused before anything is sent. */
    if (client != NULL) {
        CHECK_ERROR(vf_revoke_token(client, "\xff\xfe", &err), err, VF_STATUS_INVALID_UTF8, 0, "\xff\xfe");
        CHECK_ERROR(vf_revoke_token(client, "", &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
        CHECK_ERROR(vf_revoke_token(client, "tok\r\nX-Evil: 1", &err), err,
                    VF_STATUS_INVALID_ARGUMENT, 0, "tok\r\nX-Evil: 1");
        CHECK_ERROR(vf_revoke_token(client, "tok\tab", &err), err, VF_STATUS_INVALID_ARGUMENT, 0, "tok\tab");
        CHECK_STATUS(vf_revoke_token(client, "", NULL), VF_STATUS_INVALID_ARGUMENT);
        CHECK_STATUS(vf_revoke_token(client, "\xff\xfe", NULL), VF_STATUS_INVALID_UTF8);
    }
    vf_client_free(client);

    /* None of the above may have reached the server. */
    CHECK(request_count() == before);
}

/* A setter that fails must leave the configuration as it was. */
static void test_failed_setters_change_nothing(void)
{
    vf_config *cfg = standin_config();
    vf_client *client;

    CHECK(vf_config_set_base_url(cfg, "not a url", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_base_url(cfg, "https://user:pw@example.com", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_cluster(cfg, "nowhere", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_app_id(cfg, "bad\nid", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_secret_key(cfg, "", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_secret_key(cfg, "\xff\xfe", NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_timeout_ms(cfg, 0, NULL) != VF_STATUS_OK);
    CHECK(vf_config_set_connect_timeout_ms(cfg, 0, NULL) != VF_STATUS_OK);

    /* Still the stand-in's URL and credentials. */
    client = client_from(cfg);
    check_revokes(client);
    vf_client_free(client);
}

/* vf_config_load_env: fills settings, and on a bad variable changes nothing. */
static void test_load_env(void)
{
    vf_config *cfg = vf_config_new();
    vf_client *client;
    vf_error *err = NULL;
    const char *message;

    setenv("VOUCHERIFY_APP_ID", standin_app_id, 1);
    setenv("VOUCHERIFY_SECRET_KEY", standin_secret, 1);
    setenv("VOUCHERIFY_API_URL", standin_url, 1);
    unsetenv("VOUCHERIFY_CLUSTER");
    CHECK_STATUS(vf_config_load_env(cfg, NULL), VF_STATUS_OK);

    /* A valid app id next to an invalid secret: neither may be taken. */
    setenv("VOUCHERIFY_APP_ID", "another-app", 1);
    setenv("VOUCHERIFY_SECRET_KEY", "bad secret", 1);
    CHECK_STATUS(vf_config_load_env(cfg, &err), VF_STATUS_INVALID_ARGUMENT);
    message = vf_error_message(err);
    CHECK(message != NULL && strstr(message, "VOUCHERIFY_SECRET_KEY") != NULL);
    CHECK_ERROR(VF_STATUS_INVALID_ARGUMENT, err, VF_STATUS_INVALID_ARGUMENT, 0, "bad secret");

    /* Empty variables leave their setting as it was. */
    setenv("VOUCHERIFY_APP_ID", "", 1);
    setenv("VOUCHERIFY_SECRET_KEY", "", 1);
    setenv("VOUCHERIFY_API_URL", "", 1);
    CHECK_STATUS(vf_config_load_env(cfg, NULL), VF_STATUS_OK);

    setenv("VOUCHERIFY_CLUSTER", "nowhere", 1);
    CHECK_STATUS(vf_config_load_env(cfg, NULL), VF_STATUS_INVALID_ARGUMENT);

    client = client_from(cfg);
    check_revokes(client);
    vf_client_free(client);

    unsetenv("VOUCHERIFY_APP_ID");
    unsetenv("VOUCHERIFY_SECRET_KEY");
    unsetenv("VOUCHERIFY_API_URL");
    unsetenv("VOUCHERIFY_CLUSTER");
}

/* Revoke, then revoke again; err_out is NULL after success. */
static void test_ok_and_not_found(const vf_client *client)
{
    char *token = mint_token();
    vf_error *err = NULL;
    char *log;

    if (!CHECK(token != NULL))
        return;
    CHECK_STATUS(vf_revoke_token(client, token, &err), VF_STATUS_OK);
    CHECK(err == NULL);
    vf_error_free(err);
    err = NULL;
    CHECK_ERROR(vf_revoke_token(client, token, &err), err, VF_STATUS_TOKEN_NOT_FOUND, 404, token);
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_TOKEN_NOT_FOUND);

    /* The request went where the API says, with the token in the form body. */
    log = standin_request("GET", "/_standin/requests", NULL);
    CHECK(log != NULL && strstr(log, "/v1/oauth/token/revoke") != NULL);
    CHECK(log != NULL && strstr(log, token) != NULL);
    free(log);
    free(token);
}

/* Channel and user-agent suffix travel as headers. */
/* The headers of the latest request in the stand-in's log, as its JSON
 * shows them ([["name","value"],...]), to free; NULL if there is none. */
static char *latest_request_headers(void)
{
    char *log = standin_request("GET", "/_standin/requests", NULL);
    const char *latest = NULL, *end = NULL, *p = log;
    char *headers = NULL;

    while (p != NULL && (p = strstr(p, "\"headers\":[")) != NULL)
        latest = p++;
    if (latest != NULL)
        end = strstr(latest, "]]");
    if (end != NULL)
        headers = strndup(latest, (size_t)(end + 2 - latest));
    free(log);
    return headers;
}

static void test_headers(void)
{
    vf_config *cfg = standin_config();
    vf_client *client;
    char *headers;
    int ok = 1;

    CHECK_STATUS(vf_config_set_channel(cfg, "c-api-test", NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_user_agent_suffix(cfg, "test-capi/1.0", NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL)
        return;
    CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    /* Each value whole, in the header it belongs to. */
    headers = latest_request_headers();
    ok &= CHECK(headers != NULL && strstr(headers, "[\"x-voucherify-channel\",\"c-api-test\"]") != NULL);
    ok &= CHECK(headers != NULL
                && strstr(headers, "[\"user-agent\",\"libvoucherify/" VF_VERSION " test-capi/1.0\"]") != NULL);
    if (!ok)
        fprintf(stderr, "    headers: %s\n", headers ? headers : "(none)");
    free(headers);
    vf_client_free(client);
}

static void test_unauthorized(void)
{
    static const char wrong_secret[] = "wrong-secret-0123456789";
    vf_config *cfg = standin_config();
    vf_client *client;
    vf_error *err = NULL;
    char *token = mint_token();
    const char *request_id, *message;

    CHECK_STATUS(vf_config_set_secret_key(cfg, wrong_secret, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL || !CHECK(token != NULL)) {
        vf_client_free(client);
        free(token);
        return;
    }
    CHECK_STATUS(vf_revoke_token(client, token, &err), VF_STATUS_UNAUTHORIZED);
    request_id = vf_error_request_id(err);
    message = vf_error_message(err);
    CHECK(str_eq(vf_error_key(err), "unauthorized"));
    CHECK(request_id != NULL && strncmp(request_id, "v-", 2) == 0);
    CHECK(message != NULL && request_id != NULL && strstr(message, request_id) != NULL);
    CHECK(message != NULL && strstr(message, wrong_secret) == NULL);
    CHECK_ERROR(VF_STATUS_UNAUTHORIZED, err, VF_STATUS_UNAUTHORIZED, 401, token);
    vf_client_free(client);

    /* A wrong app id is just as unauthorized. */
    cfg = standin_config();
    CHECK_STATUS(vf_config_set_app_id(cfg, "wrong-app-id", NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL)
        CHECK_ERROR(vf_revoke_token(client, token, &err), err, VF_STATUS_UNAUTHORIZED, 401, token);
    vf_client_free(client);
    free(token);
}

/* What the stand-in's fault tokens must turn into. */
static void test_http_faults(const vf_client *client)
{
    static const struct {
        const char *token;
        vf_status status;
        int http;
        const char *key; /* NULL: the body carries none */
    } faults[] = {
        { "fault-status-400", VF_STATUS_BAD_REQUEST, 400, "bad_request" },
        { "fault-status-403", VF_STATUS_FORBIDDEN, 403, "missing_required_permission" },
        { "fault-status-404", VF_STATUS_TOKEN_NOT_FOUND, 404, "not_found" },
        { "fault-status-429", VF_STATUS_RATE_LIMITED, 429, "too_many_requests" },
        { "fault-status-500", VF_STATUS_SERVER_ERROR, 500, "internal_error" },
        { "fault-status-502-html", VF_STATUS_SERVER_ERROR, 502, NULL },
        { "fault-status-503-empty", VF_STATUS_SERVER_ERROR, 503, NULL },
        { "fault-status-504", VF_STATUS_SERVER_ERROR, 504, "gateway_timeout" },
        { "fault-status-418", VF_STATUS_UNEXPECTED_RESPONSE, 418, "error" },
        { "fault-status-409", VF_STATUS_UNEXPECTED_RESPONSE, 409, "conflict" },
        { "fault-redirect", VF_STATUS_UNEXPECTED_RESPONSE, 307, NULL },
        /* Odd bodies: a string code still parses, junk is no JSON at all. */
        { "fault-status-429-stringcode", VF_STATUS_RATE_LIMITED, 429, "too_many_requests" },
        { "fault-status-400-stringcode", VF_STATUS_BAD_REQUEST, 400, "bad_request" },
        { "fault-status-500-badjson", VF_STATUS_SERVER_ERROR, 500, NULL },
        { "fault-status-400-badjson", VF_STATUS_BAD_REQUEST, 400, NULL },
        { "fault-status-400-binary", VF_STATUS_BAD_REQUEST, 400, NULL },
        { "fault-status-503-binary", VF_STATUS_SERVER_ERROR, 503, NULL },
        { "fault-status-401-html", VF_STATUS_UNAUTHORIZED, 401, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        vf_error *err = NULL;
        vf_status got = vf_revoke_token(client, faults[i].token, &err);
        const char *key = vf_error_key(err);
        const char *message = vf_error_message(err);
        const char *request_id = vf_error_request_id(err);
        int ok = 1;

        if (faults[i].key != NULL) {
            /* A JSON error body: key and request id come through. */
            ok &= CHECK(str_eq(key, faults[i].key));
            ok &= CHECK(request_id != NULL && strncmp(request_id, "v-", 2) == 0);
            ok &= CHECK(message != NULL && request_id != NULL && strstr(message, request_id));
        } else {
            ok &= CHECK(key == NULL && request_id == NULL);
        }
        /* A non-UTF-8 body must not leak raw bytes into the message. */
        ok &= CHECK(message == NULL || strchr(message, '\xff') == NULL);
        if (!ok)
            fprintf(stderr, "    for %s: key %s, message %s\n", faults[i].token,
                    key ? key : "(null)", message ? message : "(null)");
        CHECK_ERROR(got, err, faults[i].status, faults[i].http, faults[i].token);
    }
}

static void test_timeout(void)
{
    vf_config *cfg = standin_config();
    vf_client *client;
    vf_error *err = NULL;
    double start, elapsed;

    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 300, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL)
        return;
    start = now_ms();
    CHECK_ERROR(vf_revoke_token(client, "fault-hang", &err), err, VF_STATUS_TIMEOUT, 0, "fault-hang");
    elapsed = now_ms() - start;
    /* Not before the deadline; after it, slack for valgrind. */
    if (!CHECK(elapsed >= 290.0 && elapsed < 2000.0))
        fprintf(stderr, "    the 300 ms timeout took %.0f ms\n", elapsed);
    vf_client_free(client);
}

/* A client whose base URL is `url`, one attempt per call. */
static vf_client *client_for_url(const char *url)
{
    vf_config *cfg = standin_config();

    CHECK_STATUS(vf_config_set_base_url(cfg, url, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    return client_from(cfg);
}

static void test_connection_and_tls(const vf_client *client)
{
    char url[64];
    vf_client *other;
    vf_error *err = NULL;
    int port = unused_port();

    /* The stand-in drops the connection without answering. */
    CHECK_ERROR(vf_revoke_token(client, "fault-close", &err), err,
                VF_STATUS_CONNECTION_FAILED, 0, "fault-close");

    /* Nothing listens on the port (tiny race: someone could grab it). */
    CHECK(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    other = client_for_url(url);
    if (other != NULL)
        CHECK_ERROR(vf_revoke_token(other, "some-token", &err), err,
                    VF_STATUS_CONNECTION_FAILED, 0, "some-token");
    vf_client_free(other);

    /* TLS to a server that speaks plain HTTP: the handshake fails. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d", standin_port);
    other = client_for_url(url);
    if (other != NULL)
        CHECK_ERROR(vf_revoke_token(other, "some-token", &err), err,
                    VF_STATUS_TLS_ERROR, 0, "some-token");
    vf_client_free(other);
}

/* ---- threads ------------------------------------------------------------- */

#define THREADS 8
#define TOKENS_PER_THREAD 25

struct worker {
    const vf_client *client;
    char *tokens[TOKENS_PER_THREAD];
    vf_status want;
    int matched; /* how many calls gave `want` */
};

static void *revoke_all(void *arg)
{
    struct worker *w = arg;
    int i;

    w->matched = 0;
    for (i = 0; i < TOKENS_PER_THREAD; i++)
        if (vf_revoke_token(w->client, w->tokens[i], NULL) == w->want)
            w->matched++;
    return NULL;
}

/* Runs revoke_all on every worker at once; true if all calls gave `want`. */
static int run_workers(struct worker *workers, vf_status want)
{
    pthread_t threads[THREADS];
    int i, started = 0, all = 1;

    for (i = 0; i < THREADS; i++) {
        workers[i].want = want;
        workers[i].matched = -1;
        if (pthread_create(&threads[i], NULL, revoke_all, &workers[i]) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (i = 0; i < THREADS; i++)
        all &= workers[i].matched == TOKENS_PER_THREAD;
    return started == THREADS && all;
}

static void test_threads(const vf_client *client)
{
    static struct worker workers[THREADS];
    int t, i, minted = 1;

    /* Mint first, so the threads only exercise the library. */
    for (t = 0; t < THREADS; t++) {
        workers[t].client = client;
        for (i = 0; i < TOKENS_PER_THREAD; i++)
            minted &= (workers[t].tokens[i] = mint_token()) != NULL;
    }
    if (CHECK(minted)) {
        CHECK(run_workers(workers, VF_STATUS_OK));
        CHECK(run_workers(workers, VF_STATUS_TOKEN_NOT_FOUND));
    }
    for (t = 0; t < THREADS; t++)
        for (i = 0; i < TOKENS_PER_THREAD; i++)
            free(workers[t].tokens[i]);
}

/* ---- main ---------------------------------------------------------------- */

int main(void)
{
    vf_client *client, *once;

    if (!standin_init())
        return 2;

    test_version_and_names();
    test_null_arguments();
    test_bad_input();
    test_failed_setters_change_nothing();
    test_load_env();
    test_headers();
    test_unauthorized();
    test_timeout();

    client = standin_client();
    /* Each fault check expects one answer: retries would only cost time. */
    once = single_attempt_client();
    if (client != NULL && once != NULL) {
        test_ok_and_not_found(client);
        test_http_faults(once);
        test_connection_and_tls(once);
        test_threads(client);
    }
    vf_client_free(client);
    vf_client_free(once);
    return test_summary();
}
