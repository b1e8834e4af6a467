/*
 * testlib: what the C test programs share: assertions, requests to the
 * stand-in's control endpoints, and clients configured for it.
 *
 * Each program calls standin_init() first and returns test_summary() last.
 */
#ifndef VF_TESTLIB_H
#define VF_TESTLIB_H

#include "voucherify.h"

/* ---- assertions ---------------------------------------------------------- */

extern int passed, failed;

/* Counts one check; on failure prints where and what. Returns ok. */
int check(int ok, const char *what, const char *file, int line);
#define CHECK(cond) check((cond) != 0, #cond, __FILE__, __LINE__)

/* Status mismatches print both names: far quicker to read than numbers. */
int check_status(int got, int want, const char *what, const char *file, int line);
#define CHECK_STATUS(expr, want) check_status((int)(expr), (int)(want), #expr, __FILE__, __LINE__)

/* NULL-safe string equality. */
int str_eq(const char *a, const char *b);

/*
 * Checks a failure: the returned status, the error object's status, its HTTP
 * status (skipped if want_http < 0), a non-empty message free of the secret
 * key and of `hidden` (the token or bad secret of the call). Frees the error.
 */
void check_error(vf_status got, vf_error *err, vf_status want, int want_http,
                 const char *hidden, const char *file, int line);

/* The call runs first (it sets err), then err is checked, freed and reset. */
#define CHECK_ERROR(call, err, want, http, hidden)                               \
    do {                                                                         \
        vf_status got_ = (call);                                                 \
        check_error(got_, (err), (want), (http), (hidden), __FILE__, __LINE__);  \
        (err) = NULL;                                                            \
    } while (0)

/*
 * Calls a function with NULL err_out and with an err_out: both `want`. The
 * call is written with `err_out` as its last argument.
 */
#define CHECK_FAILS(call_with_err, want)                                         \
    do {                                                                         \
        vf_error *err = NULL;                                                    \
        vf_error **err_out = NULL;                                               \
        CHECK_STATUS(call_with_err, want);                                       \
        err_out = &err;                                                          \
        CHECK_ERROR(call_with_err, err, want, 0, NULL);                          \
    } while (0)

#define CHECK_NULL_ARG(call_with_err) CHECK_FAILS(call_with_err, VF_STATUS_NULL_ARGUMENT)

/* Prints "N passed, M failed"; the exit status for main. */
int test_summary(void);

/* ---- the stand-in -------------------------------------------------------- */

extern const char *standin_url; /* http://127.0.0.1:PORT */
extern const char *standin_app_id;
extern const char *standin_secret;
extern int standin_port;

/* Reads VF_STANDIN_*; false (with a message) when not run under the stand-in. */
int standin_init(void);

/* A TCP connection to 127.0.0.1:port, or -1. */
int connect_local(int port);

/*
 * One HTTP/1.1 request to the stand-in's control endpoints (body may be
 * NULL); returns the whole response (headers and body) to free, or NULL.
 */
char *standin_request(const char *method, const char *path, const char *body);

/* Sends a control request; true if the stand-in answered 2xx. */
int standin_post(const char *path, const char *body);

/* A new live token from the stand-in's control endpoint (to free), or NULL. */
char *mint_token(void);

/*
 * A count from /_standin/stats ("requests", "connections", "refused_by_limit",
 * "max_in_flight", "idle_closes"); -1 if it cannot tell. The limits, quotas,
 * idle closing and error bodies are set with
 * standin_post("/_standin/behaviour", json) and undone by /_standin/reset.
 */
long standin_stat(const char *name);

/* How many API requests the stand-in has seen; -1 if it cannot tell. */
long request_count(void);

/*
 * How many mint requests (POST /v1/oauth/token) the stand-in logged since
 * its last reset; the closing quote keeps /v1/oauth/token/revoke out.
 * -1 if it cannot tell.
 */
long mint_count(void);

double now_ms(void);
void sleep_ms(long ms);

/* ---- library helpers ----------------------------------------------------- */

/* A configuration with the stand-in's credentials and URL. */
vf_config *standin_config(void);

/* A client built from cfg (which is then freed), or NULL. */
vf_client *client_from(vf_config *cfg);

/* A client for the stand-in with the default settings, or NULL. */
vf_client *standin_client(void);

/* Like standin_client(), but every call sends one request: no retries. */
vf_client *single_attempt_client(void);

#endif /* VF_TESTLIB_H */
