/*
 * test_resilience: the resilience and network options of the libvoucherify
 * C API (retries, rate-limit information, proxy, TLS trust, extra headers)
 * against the local stand-in. Run it with tests/c/run.sh, which sets
 * VF_STANDIN_URL, VF_STANDIN_APP_ID and VF_STANDIN_SECRET_KEY.
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* Far in the past of any clock this runs on: 2023-11-14, Unix seconds. */
#define RECENT_UNIX_TIME 1700000000

/* A client with `attempts` attempts per call and a 10 ms base delay, so retries are quick. */
static vf_client *retrying_client(uint32_t attempts)
{
    vf_config *cfg = standin_config();

    CHECK_STATUS(vf_config_set_max_attempts(cfg, attempts, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_retry_base_delay_ms(cfg, 10, NULL), VF_STATUS_OK);
    return client_from(cfg);
}

/* Whether the stand-in's request log contains `text`. */
static int log_contains(const char *text)
{
    char *log = standin_request("GET", "/_standin/requests", NULL);
    int found = log != NULL && strstr(log, text) != NULL;

    free(log);
    return found;
}

/* ---- setters ------------------------------------------------------------- */

static void test_retry_settings(void)
{
    vf_config *cfg = vf_config_new();

    CHECK_NULL_ARG(vf_config_set_max_attempts(NULL, 3, err_out));
    CHECK_NULL_ARG(vf_config_set_retry_base_delay_ms(NULL, 10, err_out));
    CHECK_FAILS(vf_config_set_max_attempts(cfg, 0, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_set_max_attempts(cfg, 11, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_max_attempts(cfg, 10, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_retry_base_delay_ms(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_retry_base_delay_ms(cfg, 5000, NULL), VF_STATUS_OK);
    vf_config_free(cfg);
}

static void test_tls_settings(void)
{
    static const char missing[] = "/nonexistent/libvoucherify-test-ca.pem";
    vf_config *cfg = standin_config();
    vf_client *client = NULL;
    vf_error *err = NULL;

    CHECK_NULL_ARG(vf_config_set_tls_roots(NULL, VF_TLS_ROOTS_SYSTEM, err_out));
    CHECK_STATUS(vf_config_set_tls_roots(cfg, VF_TLS_ROOTS_SYSTEM, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_tls_roots(cfg, VF_TLS_ROOTS_MOZILLA, NULL), VF_STATUS_OK);
    CHECK_FAILS(vf_config_set_tls_roots(cfg, 2, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_set_tls_roots(cfg, -1, err_out), VF_STATUS_INVALID_ARGUMENT);

    /* The file is read by vf_client_new, not by the setter. */
    CHECK_NULL_ARG(vf_config_set_ca_file(NULL, missing, err_out));
    CHECK_STATUS(vf_config_set_ca_file(cfg, missing, NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &client, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK(client == NULL);
    /* A readable file without a certificate is refused too. */
    CHECK_STATUS(vf_config_set_ca_file(cfg, "/dev/null", NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &client, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);
    CHECK(client == NULL);

    /* NULL removes it: the client builds again, with the default store too. */
    CHECK_STATUS(vf_config_set_ca_file(cfg, NULL, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_tls_roots(cfg, VF_TLS_ROOTS_SYSTEM, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL)
        CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    vf_client_free(client);
}

static void test_proxy(void)
{
    static const char password[] = "pr0xy-pa55word";
    vf_config *cfg = standin_config();
    vf_client *client = NULL;
    vf_error *err = NULL;
    const char *message;
    char url[128];

    CHECK_NULL_ARG(vf_config_set_proxy(NULL, "http://127.0.0.1:3128", err_out));
    CHECK_NULL_ARG(vf_config_set_proxy_from_env(NULL, true, err_out));

    /* A bad URL is refused, without repeating the password it holds. */
    snprintf(url, sizeof url, "http://user:%s@[::1", password);
    CHECK_STATUS(vf_config_set_proxy(cfg, url, &err), VF_STATUS_INVALID_ARGUMENT);
    message = vf_error_message(err);
    CHECK(message != NULL && strstr(message, password) == NULL);
    CHECK_ERROR(VF_STATUS_INVALID_ARGUMENT, err, VF_STATUS_INVALID_ARGUMENT, 0, password);
    CHECK_STATUS(vf_config_set_proxy(cfg, "not a url", NULL), VF_STATUS_INVALID_ARGUMENT);
    /* Only http and https proxies: SOCKS is refused at once, never a panic later. */
    snprintf(url, sizeof url, "socks5://user:%s@127.0.0.1:1080", password);
    CHECK_STATUS(vf_config_set_proxy(cfg, url, &err), VF_STATUS_INVALID_ARGUMENT);
    CHECK_ERROR(VF_STATUS_INVALID_ARGUMENT, err, VF_STATUS_INVALID_ARGUMENT, 0, password);

    /* Plain http through a proxy, even to loopback, needs the explicit allow. */
    snprintf(url, sizeof url, "http://user:%s@127.0.0.1:1", password);
    CHECK_STATUS(vf_config_set_proxy(cfg, url, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_ERROR(vf_client_new(cfg, &client, &err), err, VF_STATUS_INVALID_ARGUMENT, 0, password);
    CHECK(client == NULL);

    /* A proxy nobody listens on is really used, and its password never shown. */
    CHECK_STATUS(vf_config_set_allow_insecure_http(cfg, true, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_client_new(cfg, &client, NULL), VF_STATUS_OK);
    if (client != NULL)
        CHECK_ERROR(vf_revoke_token(client, "unknown-token", &err), err,
                    VF_STATUS_CONNECTION_FAILED, 0, password);
    vf_client_free(client);

    /* NULL removes it: the client goes direct again. */
    CHECK_STATUS(vf_config_set_proxy(cfg, NULL, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL)
        CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    vf_client_free(client);

    /* The same dead proxy in the environment is used only when asked to. */
    setenv("HTTP_PROXY", url, 1);
    setenv("HTTPS_PROXY", url, 1);
    setenv("ALL_PROXY", url, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    client = single_attempt_client();
    if (client != NULL)
        CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    vf_client_free(client);

    cfg = standin_config();
    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_proxy_from_env(cfg, true, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_allow_insecure_http(cfg, true, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL)
        CHECK_ERROR(vf_revoke_token(client, "unknown-token", &err), err,
                    VF_STATUS_CONNECTION_FAILED, 0, password);
    vf_client_free(client);

    unsetenv("HTTP_PROXY");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
}

static void test_extra_headers(void)
{
    vf_config *cfg = standin_config();
    vf_client *client;

    CHECK_NULL_ARG(vf_config_add_header(NULL, "X-Ok", "a", err_out));
    CHECK_NULL_ARG(vf_config_add_header(cfg, NULL, "a", err_out));
    CHECK_NULL_ARG(vf_config_add_header(cfg, "X-Ok", NULL, err_out));
    /* Credentials and framing stay the library's, whatever the case. */
    CHECK_FAILS(vf_config_add_header(cfg, "X-App-Token", "stolen", err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_add_header(cfg, "x-app-id", "other", err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_add_header(cfg, "Content-Type", "text/plain", err_out),
                VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_add_header(cfg, "Host", "example.com", err_out), VF_STATUS_INVALID_ARGUMENT);
    /* No header injection through the value or the name. */
    CHECK_FAILS(vf_config_add_header(cfg, "X-Ok", "a\r\nb", err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_add_header(cfg, "X Ok", "a", err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_add_header(cfg, "", "a", err_out), VF_STATUS_INVALID_ARGUMENT);

    CHECK_STATUS(vf_config_add_header(cfg, "X-Test-Header", "from-test-resilience", NULL),
                 VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL) {
        CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
        /* The log lowercases names. */
        CHECK(log_contains("[\"x-test-header\",\"from-test-resilience\"]"));
    }
    vf_client_free(client);
}

/* ---- what errors and clients report -------------------------------------- */

static void test_error_details(void)
{
    vf_client *once = single_attempt_client();
    vf_client *thrice = retrying_client(3);
    vf_error *err = NULL;

    /* NULL gives the "nothing" values. */
    CHECK(vf_error_attempts(NULL) == 0);
    CHECK(vf_error_retry_after_s(NULL) == -1);
    CHECK(vf_error_rate_limit_limit(NULL) == -1);
    CHECK(vf_error_rate_limit_remaining(NULL) == -1);
    CHECK(vf_error_rate_limit_retry_at(NULL) == -1);
    if (once == NULL || thrice == NULL)
        goto done;

    /* Bad input: nothing sent, no answer. */
    CHECK_STATUS(vf_revoke_token(once, "", &err), VF_STATUS_INVALID_ARGUMENT);
    CHECK(vf_error_attempts(err) == 0);
    CHECK(vf_error_retry_after_s(err) == -1);
    CHECK(vf_error_rate_limit_limit(err) == -1);
    CHECK_ERROR(VF_STATUS_INVALID_ARGUMENT, err, VF_STATUS_INVALID_ARGUMENT, 0, NULL);

    /* 503 is retried: one request, or three. */
    CHECK_STATUS(vf_revoke_token(once, "fault-status-503", &err), VF_STATUS_SERVER_ERROR);
    CHECK(vf_error_attempts(err) == 1);
    CHECK_ERROR(VF_STATUS_SERVER_ERROR, err, VF_STATUS_SERVER_ERROR, 503, NULL);
    CHECK_STATUS(vf_revoke_token(thrice, "fault-status-503", &err), VF_STATUS_SERVER_ERROR);
    if (!CHECK(vf_error_attempts(err) == 3))
        fprintf(stderr, "    %u attempts\n", (unsigned)vf_error_attempts(err));
    CHECK_ERROR(VF_STATUS_SERVER_ERROR, err, VF_STATUS_SERVER_ERROR, 503, NULL);

    /* The stand-in's 429 says Retry-After: 1; a scripted one says nothing. */
    CHECK_STATUS(vf_revoke_token(once, "fault-status-429", &err), VF_STATUS_RATE_LIMITED);
    CHECK(vf_error_retry_after_s(err) == 1);
    CHECK_ERROR(VF_STATUS_RATE_LIMITED, err, VF_STATUS_RATE_LIMITED, 429, NULL);
    CHECK(standin_post("/_standin/faults", "[{\"respond\":{\"status\":429,\"body\":\"\"}}]"));
    CHECK_STATUS(vf_revoke_token(once, "unknown-token", &err), VF_STATUS_RATE_LIMITED);
    CHECK(vf_error_retry_after_s(err) == -1);
    CHECK(vf_error_rate_limit_limit(err) == -1);
    CHECK_ERROR(VF_STATUS_RATE_LIMITED, err, VF_STATUS_RATE_LIMITED, 429, NULL);

    /* The stand-in's own answers carry X-Rate-Limit-*, errors included. */
    CHECK_STATUS(vf_revoke_token(once, "unknown-token", &err), VF_STATUS_TOKEN_NOT_FOUND);
    CHECK(vf_error_attempts(err) == 1);
    CHECK(vf_error_rate_limit_limit(err) > 0);
    CHECK(vf_error_rate_limit_remaining(err) >= 0);
    CHECK(vf_error_rate_limit_remaining(err) <= vf_error_rate_limit_limit(err));
    CHECK(vf_error_rate_limit_retry_at(err) > RECENT_UNIX_TIME);
    CHECK_ERROR(VF_STATUS_TOKEN_NOT_FOUND, err, VF_STATUS_TOKEN_NOT_FOUND, 404, NULL);

done:
    vf_client_free(once);
    vf_client_free(thrice);
}

static void test_client_rate_limit(void)
{
    vf_client *client = single_attempt_client();
    int64_t limit = 0, remaining = 0, retry_at = 0;
    char *token = mint_token();

    CHECK_NULL_ARG(vf_client_rate_limit(NULL, &limit, &remaining, &retry_at, err_out));
    if (client == NULL || !CHECK(token != NULL))
        goto done;

    /* No answer yet: nothing known. */
    CHECK_STATUS(vf_client_rate_limit(client, &limit, &remaining, &retry_at, NULL), VF_STATUS_OK);
    CHECK(limit == -1 && remaining == -1 && retry_at == -1);

    /* A success carries the headers too. */
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_client_rate_limit(client, &limit, &remaining, &retry_at, NULL), VF_STATUS_OK);
    CHECK(limit > 0);
    CHECK(remaining >= 0 && remaining <= limit);
    CHECK(retry_at > RECENT_UNIX_TIME);

    /* Every out-pointer is optional. */
    limit = 0;
    CHECK_STATUS(vf_client_rate_limit(client, NULL, NULL, NULL, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_client_rate_limit(client, &limit, NULL, NULL, NULL), VF_STATUS_OK);
    CHECK(limit > 0);

done:
    vf_client_free(client);
    free(token);
}

/* ---- retries ------------------------------------------------------------- */

static void test_retries_recover(void)
{
    vf_client *client = retrying_client(4);
    char *token = mint_token();
    long before;

    if (client == NULL || !CHECK(token != NULL))
        goto done;

    /* 503 twice, then the real answer: the caller sees only success. */
    CHECK(standin_post("/_standin/faults",
                       "[{\"respond\":{\"status\":503,\"body\":\"\"}},"
                       " {\"respond\":{\"status\":503,\"body\":\"\"}}]"));
    before = request_count();
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    CHECK(request_count() - before == 3);

    /*
     * A reset and a closed connection are retried too. The token is gone
     * already, but the answers lost to those faults could have been the
     * revocation: the library then reports the 404 as OK (src/core/client.rs).
     */
    CHECK(standin_post("/_standin/faults", "[\"reset\", \"close\"]"));
    before = request_count();
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    CHECK(request_count() - before == 3);
    /* Without lost answers the same 404 is reported as it is. */
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_TOKEN_NOT_FOUND);

done:
    vf_client_free(client);
    free(token);
}

/* Retries stop at the total timeout, whatever the attempts left. */
static void test_retries_respect_timeout(void)
{
    vf_config *cfg = standin_config();
    vf_client *client;
    vf_error *err = NULL;
    double start, elapsed;

    CHECK_STATUS(vf_config_set_max_attempts(cfg, 10, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_retry_base_delay_ms(cfg, 200, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 400, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL)
        return;
    start = now_ms();
    CHECK_STATUS(vf_revoke_token(client, "fault-status-503", &err), VF_STATUS_SERVER_ERROR);
    elapsed = now_ms() - start;
    CHECK(vf_error_attempts(err) >= 1 && vf_error_attempts(err) < 10);
    CHECK_ERROR(VF_STATUS_SERVER_ERROR, err, VF_STATUS_SERVER_ERROR, 503, NULL);
    /* Generous: valgrind slows every attempt down. */
    if (!CHECK(elapsed < 2000.0))
        fprintf(stderr, "    10 attempts within a 400 ms timeout took %.0f ms\n", elapsed);
    vf_client_free(client);
}

/*
 * The network faults, each once through the C API, so that valgrind and
 * the sanitizers watch their error paths too: resets before and during the
 * answer, a body trickled past the deadline, huge and endless bodies.
 */
static void test_network_faults(void)
{
    static const struct {
        const char *token;
        vf_status want;
        int http;
    } faults[] = {
        {"fault-reset", VF_STATUS_CONNECTION_FAILED, 0},
        {"fault-reset-mid-body", VF_STATUS_CONNECTION_FAILED, 200},
        {"fault-trickle", VF_STATUS_TIMEOUT, -1},
        {"fault-huge-body", VF_STATUS_UNEXPECTED_RESPONSE, 500},
        {"fault-endless-body", VF_STATUS_UNEXPECTED_RESPONSE, 500},
    };
    vf_config *cfg = standin_config();
    vf_client *client;
    vf_error *err = NULL;
    size_t i;

    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    /* The trickled body takes ~20 s in all: the deadline must cut it. */
    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 1500, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL)
        return;
    for (i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        double start = now_ms();
        CHECK_ERROR(vf_revoke_token(client, faults[i].token, &err), err, faults[i].want, faults[i].http,
                    faults[i].token);
        if (!CHECK(now_ms() - start < 5000.0))
            fprintf(stderr, "    %s took %.0f ms\n", faults[i].token, now_ms() - start);
    }
    vf_client_free(client);
}

int main(void)
{
    if (!standin_init())
        return 2;
    /* An empty log keeps /_standin/requests small and under its cap. */
    if (!standin_post("/_standin/reset", NULL)) {
        fprintf(stderr, "the stand-in did not reset its log\n");
        return 2;
    }

    test_retry_settings();
    test_tls_settings();
    test_proxy();
    test_extra_headers();
    test_error_details();
    test_client_rate_limit();
    test_retries_recover();
    test_retries_respect_timeout();
    test_network_faults();
    return test_summary();
}
