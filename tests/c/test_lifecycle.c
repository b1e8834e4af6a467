/*
 * test_lifecycle: the token lifecycle calls of the libvoucherify C API
 * (vf_generate_token, vf_introspect_token, vf_revoke_tokens, vf_token_*,
 * vf_token_source_*, vf_string_free) against the local stand-in. Run it
 * with tests/c/run.sh, which sets VF_STANDIN_URL, VF_STANDIN_APP_ID and
 * VF_STANDIN_SECRET_KEY.
 *
 *   test_lifecycle                 everything but the expiry test
 *   test_lifecycle --short-lived   only the expiry test; needs a stand-in
 *                                  started with --token-lifetime 3
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ---- helpers ------------------------------------------------------------ */

/* Whether the stand-in says `token` is active: 1, 0, or -1 on failure. */
static int is_active(const vf_client *client, const char *token)
{
    bool active = false;

    if (!CHECK_STATUS(vf_introspect_token(client, token, &active, NULL, NULL), VF_STATUS_OK))
        return -1;
    return active ? 1 : 0;
}

/* The source's current token (to vf_string_free), or NULL. */
static char *source_token(const vf_token_source *source)
{
    char *token = NULL;
    vf_error *err = NULL;

    if (!CHECK_STATUS(vf_token_source_access_token(source, &token, &err), VF_STATUS_OK))
        fprintf(stderr, "    %s\n", vf_error_message(err));
    vf_error_free(err);
    return token;
}

/* ---- arguments ----------------------------------------------------------- */

static void test_null_arguments(const vf_client *client)
{
    long before = request_count();
    const char *tokens[1] = { "some-token" };
    vf_status statuses[1];
    vf_token *token = NULL;
    vf_token_source *source = NULL;
    char *string = NULL;
    bool active = false;

    /* Freeing NULL is fine; accessors on NULL give their "nothing" value. */
    vf_token_free(NULL);
    vf_string_free(NULL);
    vf_token_source_free(NULL);
    CHECK(vf_token_access_token(NULL) == NULL);
    CHECK(vf_token_client_id(NULL) == NULL);
    CHECK(vf_token_scope(NULL) == NULL);
    CHECK(vf_token_type(NULL) == NULL);
    CHECK(vf_token_expires_at(NULL) == 0);
    CHECK(vf_token_expires_in(NULL) == 0);

    CHECK_NULL_ARG(vf_generate_token(NULL, "api", &token, err_out));
    CHECK_NULL_ARG(vf_generate_token(client, NULL, &token, err_out));
    CHECK_NULL_ARG(vf_generate_token(client, "api", NULL, err_out));
    CHECK_NULL_ARG(vf_introspect_token(NULL, "some-token", &active, &token, err_out));
    CHECK_NULL_ARG(vf_introspect_token(client, NULL, &active, &token, err_out));
    CHECK_NULL_ARG(vf_introspect_token(client, "some-token", NULL, &token, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens(NULL, tokens, 1, 1, statuses, NULL, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens(client, NULL, 1, 1, statuses, NULL, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens(client, tokens, 1, 1, NULL, NULL, err_out));
    CHECK_NULL_ARG(vf_token_source_new(NULL, "api", &source, err_out));
    CHECK_NULL_ARG(vf_token_source_new(client, NULL, &source, err_out));
    CHECK_NULL_ARG(vf_token_source_new(client, "api", NULL, err_out));
    CHECK_NULL_ARG(vf_token_source_set_refresh_margin_ms(NULL, 1000, err_out));
    CHECK_NULL_ARG(vf_token_source_set_revoke_on_free(NULL, false, err_out));
    CHECK_NULL_ARG(vf_token_source_access_token(NULL, &string, err_out));
    CHECK_NULL_ARG(vf_token_source_authorization(NULL, &string, err_out));
    CHECK_NULL_ARG(vf_token_source_refresh(NULL, err_out));
    CHECK(token == NULL && source == NULL && string == NULL); /* written only on success */

    /* A source mints nothing until asked, so NULL out-pointers cost nothing. */
    if (CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK)) {
        CHECK_NULL_ARG(vf_token_source_access_token(source, NULL, err_out));
        CHECK_NULL_ARG(vf_token_source_authorization(source, NULL, err_out));
        vf_token_source_free(source); /* minted nothing: revokes nothing */
    }

    CHECK(request_count() == before);
}

static void test_bad_strings(const vf_client *client)
{
    long before = request_count();
    vf_token *token = NULL;
    vf_token_source *source = NULL;
    bool active = false;

    CHECK_FAILS(vf_generate_token(client, "\xff\xfe", &token, err_out), VF_STATUS_INVALID_UTF8);
    CHECK_FAILS(vf_generate_token(client, "", &token, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_generate_token(client, "   ", &token, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_generate_token(client, "api\r\nX-Evil: 1", &token, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_introspect_token(client, "\xff\xfe", &active, &token, err_out), VF_STATUS_INVALID_UTF8);
    CHECK_FAILS(vf_introspect_token(client, "", &active, &token, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_introspect_token(client, "tok\nen", &active, &token, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_token_source_new(client, "\xff\xfe", &source, err_out), VF_STATUS_INVALID_UTF8);
    CHECK_FAILS(vf_token_source_new(client, "", &source, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK(token == NULL && source == NULL);

    /* None of the above may have reached the server. */
    CHECK(request_count() == before);
}

/* ---- generate and introspect --------------------------------------------- */

/* The checks every fresh "api" token must pass, from generate or introspect. */
static void check_api_token(const vf_token *token, int64_t min_expires_in)
{
    const char *access = vf_token_access_token(token);
    const char *client_id = vf_token_client_id(token);
    int64_t expires_at = vf_token_expires_at(token);

    CHECK(access != NULL && strlen(access) == 50);
    CHECK(str_eq(vf_token_type(token), "Bearer"));
    CHECK(str_eq(vf_token_scope(token), "api"));
    CHECK(client_id != NULL && strncmp(client_id, "cl_", 3) == 0);
    CHECK(vf_token_expires_in(token) >= min_expires_in && vf_token_expires_in(token) <= 900);
    /* Same machine, same clock: a generous window is plenty. */
    CHECK(expires_at > (int64_t)time(NULL) + 800 && expires_at <= (int64_t)time(NULL) + 960);
}

static void test_generate(const vf_client *client)
{
    vf_token *token = NULL;
    vf_error *err = NULL;
    const char *request_id;

    if (!CHECK_STATUS(vf_generate_token(client, "api", &token, &err), VF_STATUS_OK)) {
        fprintf(stderr, "    %s\n", vf_error_message(err));
        vf_error_free(err);
        return;
    }
    CHECK(err == NULL);
    CHECK(token != NULL);
    CHECK(vf_token_expires_in(token) == 900);
    check_api_token(token, 900);
    CHECK(is_active(client, vf_token_access_token(token)) == 1);
    CHECK_STATUS(vf_revoke_token(client, vf_token_access_token(token), NULL), VF_STATUS_OK);
    vf_token_free(token);
    token = NULL;

    /* Several scopes travel space-separated and come back so. */
    if (CHECK_STATUS(vf_generate_token(client, "vouchers campaigns", &token, NULL), VF_STATUS_OK)) {
        CHECK(str_eq(vf_token_scope(token), "vouchers campaigns"));
        CHECK_STATUS(vf_revoke_token(client, vf_token_access_token(token), NULL), VF_STATUS_OK);
        vf_token_free(token);
        token = NULL;
    }

    /* Commas are no separator: Voucherify refuses the scope. Its 400 has
     * only code, key and message (the spec's example): no request id. */
    CHECK_STATUS(vf_generate_token(client, "vouchers,campaigns", &token, &err), VF_STATUS_BAD_REQUEST);
    request_id = vf_error_request_id(err);
    CHECK(str_eq(vf_error_key(err), "invalid_scope"));
    CHECK(str_eq(vf_error_api_message(err), "Invalid scope: vouchers,campaigns"));
    CHECK(request_id == NULL && vf_error_details(err) == NULL);
    CHECK(token == NULL);
    CHECK_ERROR(VF_STATUS_BAD_REQUEST, err, VF_STATUS_BAD_REQUEST, 400, NULL);
}

static void test_introspect(const vf_client *client)
{
    vf_token *minted = NULL, *token = NULL;
    vf_token *untouched = (vf_token *)&minted; /* a non-NULL value that must be replaced */
    bool active = false;
    const char *access;

    if (!CHECK_STATUS(vf_generate_token(client, "api", &minted, NULL), VF_STATUS_OK))
        return;
    access = vf_token_access_token(minted);

    CHECK_STATUS(vf_introspect_token(client, access, &active, &token, NULL), VF_STATUS_OK);
    CHECK(active);
    if (CHECK(token != NULL)) {
        CHECK(str_eq(vf_token_access_token(token), access));
        CHECK(str_eq(vf_token_client_id(token), vf_token_client_id(minted)));
        CHECK(vf_token_expires_at(token) == vf_token_expires_at(minted));
        check_api_token(token, 1);
    }
    vf_token_free(token);

    /* token_out is optional. */
    active = false;
    CHECK_STATUS(vf_introspect_token(client, access, &active, NULL, NULL), VF_STATUS_OK);
    CHECK(active);

    /* Revoked: a normal answer, not an error, and no details. */
    CHECK_STATUS(vf_revoke_token(client, access, NULL), VF_STATUS_OK);
    token = untouched;
    CHECK_STATUS(vf_introspect_token(client, access, &active, &token, NULL), VF_STATUS_OK);
    CHECK(!active);
    CHECK(token == NULL);
    vf_token_free(minted);

    /* Never minted: the same. */
    active = true;
    token = untouched;
    CHECK_STATUS(vf_introspect_token(client, "no-such-token-0123456789", &active, &token, NULL),
                 VF_STATUS_OK);
    CHECK(!active);
    CHECK(token == NULL);
}

/* ---- bulk revoke --------------------------------------------------------- */

#define BULK 24
#define BULK_MINTED 20

/* Positions of the entries that are not freshly minted tokens. */
enum { AT_UNKNOWN = 0, AT_NULL = 5, AT_BAD_UTF8 = 11, AT_EMPTY = 23 };

/* What entry i must give when every minted token is still live. */
static vf_status bulk_expected(int i, vf_status for_minted)
{
    switch (i) {
    case AT_UNKNOWN: return VF_STATUS_TOKEN_NOT_FOUND;
    case AT_NULL: return VF_STATUS_NULL_ARGUMENT;
    case AT_BAD_UTF8: return VF_STATUS_INVALID_UTF8;
    case AT_EMPTY: return VF_STATUS_INVALID_ARGUMENT;
    default: return for_minted;
    }
}

/* Fills tokens[] with the odd entries and BULK_MINTED new tokens (owned in minted[]). */
static int bulk_tokens(const char *tokens[BULK], char *minted[BULK_MINTED])
{
    int i, m = 0, ok = 1;

    for (i = 0; i < BULK; i++) {
        switch (i) {
        case AT_UNKNOWN: tokens[i] = "unknown-token-0123456789"; break;
        case AT_NULL: tokens[i] = NULL; break;
        case AT_BAD_UTF8: tokens[i] = "\xff\xfe"; break;
        case AT_EMPTY: tokens[i] = ""; break;
        default:
            minted[m] = mint_token();
            ok &= minted[m] != NULL;
            tokens[i] = minted[m++];
        }
    }
    return CHECK(ok && m == BULK_MINTED);
}

/*
 * One bulk call with errors_out: statuses in input order, an error object
 * exactly where the status is not OK (agreeing with it), and only the
 * sendable entries (minted plus unknown) sent.
 */
static void check_bulk(const vf_client *client, const char *const tokens[BULK],
                       uint32_t parallelism, vf_status for_minted)
{
    vf_status statuses[BULK];
    vf_error *errors[BULK];
    long before = request_count();
    int i;

    /* Garbage in the arrays shows whether every entry gets written. */
    for (i = 0; i < BULK; i++) {
        statuses[i] = (vf_status)99;
        errors[i] = (vf_error *)&errors[i];
    }
    if (!CHECK_STATUS(vf_revoke_tokens(client, tokens, BULK, parallelism, statuses, errors, NULL),
                      VF_STATUS_OK))
        return;
    for (i = 0; i < BULK; i++) {
        vf_status want = bulk_expected(i, for_minted);

        if (!CHECK_STATUS(statuses[i], want))
            fprintf(stderr, "    entry %d, parallelism %u\n", i, (unsigned)parallelism);
        if (want == VF_STATUS_OK)
            CHECK(errors[i] == NULL);
        else if (CHECK(errors[i] != NULL && errors[i] != (vf_error *)&errors[i]))
            CHECK_ERROR(statuses[i], errors[i], want, want == VF_STATUS_TOKEN_NOT_FOUND ? 404 : 0,
                        tokens[i]);
    }
    CHECK(request_count() - before == BULK_MINTED + 1);
}

static void test_bulk_revoke(const vf_client *client)
{
    /* 100 is above the maximum of 32, which the header says is a cap. */
    static const uint32_t parallelisms[] = { 1, 4, 100 };
    static const char *const unsent[2] = { "unsent-token-1", "unsent-token-2" };
    const char *tokens[BULK];
    long before;
    char *minted[BULK_MINTED];
    vf_status statuses[BULK];
    size_t p;
    int i;

    for (p = 0; p < sizeof parallelisms / sizeof parallelisms[0]; p++) {
        if (!bulk_tokens(tokens, minted))
            return;
        check_bulk(client, tokens, parallelisms[p], VF_STATUS_OK);
        /* Revoked now: a second round finds none of them. */
        check_bulk(client, tokens, parallelisms[p], VF_STATUS_TOKEN_NOT_FOUND);
        for (i = 0; i < BULK_MINTED; i++)
            free(minted[i]);
    }

    /* errors_out is optional; parallelism 0 means the default. */
    if (bulk_tokens(tokens, minted)) {
        CHECK_STATUS(vf_revoke_tokens(client, tokens, BULK, 0, statuses, NULL, NULL), VF_STATUS_OK);
        for (i = 0; i < BULK; i++)
            CHECK_STATUS(statuses[i], bulk_expected(i, VF_STATUS_OK));
        for (i = 0; i < BULK_MINTED; i++)
            free(minted[i]);
    }

    /* Nothing to do is no error, whatever the arrays are. */
    CHECK_STATUS(vf_revoke_tokens(client, NULL, 0, 4, NULL, NULL, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_revoke_tokens(client, unsent, 0, 4, statuses, NULL, NULL), VF_STATUS_OK);

    /* An argument error writes no outcome and sends nothing. */
    before = request_count();
    statuses[0] = (vf_status)99;
    CHECK_NULL_ARG(vf_revoke_tokens(client, unsent, 2, 4, NULL, NULL, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens(client, NULL, 2, 4, statuses, NULL, err_out));
    CHECK(statuses[0] == (vf_status)99);
    CHECK(request_count() == before);
}

/* ---- token source -------------------------------------------------------- */

static void test_source_caches(const vf_client *client)
{
    vf_token_source *source = NULL;
    char *first, *again, *header = NULL, *renewed;
    long generated = mint_count(), before;
    char want[64];

    if (!CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK))
        return;
    CHECK(mint_count() == generated); /* creating mints nothing */

    first = source_token(source);
    CHECK(first != NULL && strlen(first) == 50);
    CHECK(mint_count() == generated + 1);
    CHECK(first != NULL && is_active(client, first) == 1);

    /* Later calls reuse the cached token without a single request. */
    before = request_count();
    again = source_token(source);
    CHECK(str_eq(again, first));
    CHECK_STATUS(vf_token_source_authorization(source, &header, NULL), VF_STATUS_OK);
    snprintf(want, sizeof want, "Bearer %s", first ? first : "");
    CHECK(str_eq(header, want));
    CHECK(request_count() == before);
    vf_string_free(again);
    vf_string_free(header);

    /* refresh mints a new token at once, and later calls hand that out. */
    CHECK_STATUS(vf_token_source_refresh(source, NULL), VF_STATUS_OK);
    CHECK(mint_count() == generated + 2);
    renewed = source_token(source);
    CHECK(renewed != NULL && !str_eq(renewed, first));
    /* The header: the previous token is not revoked, requests may still carry it. */
    CHECK(first != NULL && is_active(client, first) == 1);

    /* free revokes the token in use. */
    vf_token_source_free(source);
    CHECK(renewed != NULL && is_active(client, renewed) == 0);
    if (first != NULL)
        CHECK_STATUS(vf_revoke_token(client, first, NULL), VF_STATUS_OK);
    vf_string_free(first);
    vf_string_free(renewed);
}

static void test_source_keeps_token(const vf_client *client)
{
    vf_token_source *source = NULL;
    char *token;

    if (!CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK))
        return;
    CHECK_STATUS(vf_token_source_set_revoke_on_free(source, false, NULL), VF_STATUS_OK);
    token = source_token(source);
    vf_token_source_free(source);
    if (CHECK(token != NULL)) {
        CHECK(is_active(client, token) == 1);
        CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    }
    vf_string_free(token);
}

/* The header: the source keeps the client's pool alive, so the client may go first. */
static void test_source_outlives_client(const vf_client *checker)
{
    vf_client *client = standin_client();
    vf_token_source *source = NULL;
    char *first, *second;

    if (client == NULL)
        return;
    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    vf_client_free(client);
    if (source == NULL)
        return;
    first = source_token(source);
    CHECK_STATUS(vf_token_source_refresh(source, NULL), VF_STATUS_OK);
    second = source_token(source);
    CHECK(first != NULL && second != NULL && !str_eq(first, second));
    vf_token_source_free(source);
    CHECK(second != NULL && is_active(checker, second) == 0);
    vf_string_free(first);
    vf_string_free(second);
}

#define THREADS 8

struct asker {
    const vf_token_source *source;
    pthread_barrier_t *start;
    char *token;
    vf_status status;
};

static void *ask(void *arg)
{
    struct asker *a = arg;

    pthread_barrier_wait(a->start); /* all threads ask at the same moment */
    a->status = vf_token_source_access_token(a->source, &a->token, NULL);
    return NULL;
}

/* Many threads asking a fresh source at once cause exactly one mint. */
static void test_source_threads(const vf_client *client)
{
    vf_token_source *source = NULL;
    pthread_barrier_t start;
    pthread_t threads[THREADS];
    struct asker askers[THREADS];
    long generated = mint_count();
    int i;

    if (!CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK))
        return;
    pthread_barrier_init(&start, NULL, THREADS);
    for (i = 0; i < THREADS; i++) {
        askers[i].source = source;
        askers[i].start = &start;
        askers[i].token = NULL;
        askers[i].status = (vf_status)99;
        /* The others would wait at the barrier forever: give up loudly. */
        if (pthread_create(&threads[i], NULL, ask, &askers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            abort();
        }
    }
    for (i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);

    for (i = 0; i < THREADS; i++) {
        CHECK_STATUS(askers[i].status, VF_STATUS_OK);
        CHECK(str_eq(askers[i].token, askers[0].token));
    }
    if (!CHECK(mint_count() == generated + 1))
        fprintf(stderr, "    %ld generate requests\n", mint_count() - generated);
    for (i = 0; i < THREADS; i++)
        vf_string_free(askers[i].token);
    vf_token_source_free(source);
}

/* ---- expiry (a stand-in with --token-lifetime 3) ------------------------- */

static void test_source_refreshes_before_expiry(const vf_client *client)
{
    vf_token_source *source = NULL;
    vf_token *probe = NULL;
    char *first, *second, *third, *fourth;
    long generated;

    /* Make sure the stand-in really hands out 3-second tokens. */
    if (!CHECK_STATUS(vf_generate_token(client, "api", &probe, NULL), VF_STATUS_OK)
        || !CHECK(vf_token_expires_in(probe) == 3)) {
        vf_token_free(probe);
        return;
    }
    vf_token_free(probe);

    if (!CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK))
        return;
    CHECK_STATUS(vf_token_source_set_refresh_margin_ms(source, 1000, NULL), VF_STATUS_OK);

    /* Fresh, then 2.2 s on: within 1 s of expiry, so replaced. */
    first = source_token(source);
    second = source_token(source);
    CHECK(first != NULL && str_eq(second, first));
    sleep_ms(2200);
    third = source_token(source);
    CHECK(third != NULL && !str_eq(third, first));
    vf_string_free(second);

    /*
     * Again 2.2 s on, but minting fails: the token still has about 0.8 s,
     * so it is handed out; so it is again at once, without a request, while
     * the failure's one-second backoff lasts. After the backoff (the token
     * has expired by then) the next call mints. A 401, since the library
     * may retry a 5xx and so never see it fail.
     */
    sleep_ms(2200);
    CHECK(standin_post("/_standin/faults", "[{\"respond\":{\"status\":401}}]"));
    second = source_token(source);
    CHECK(str_eq(second, third));
    generated = mint_count();
    fourth = source_token(source);
    CHECK(str_eq(fourth, third) && mint_count() == generated);
    vf_string_free(fourth);
    sleep_ms(1000);
    fourth = source_token(source);
    CHECK(fourth != NULL && !str_eq(fourth, third) && !str_eq(fourth, first));

    vf_token_source_free(source);
    vf_string_free(first);
    vf_string_free(second);
    vf_string_free(third);
    vf_string_free(fourth);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    vf_client *client;
    int short_lived = argc == 2 && strcmp(argv[1], "--short-lived") == 0;

    if (!standin_init())
        return 2;
    if (argc > 1 && !short_lived) {
        fprintf(stderr, "usage: %s [--short-lived]\n", argv[0]);
        return 2;
    }
    /* An empty log keeps /_standin/requests small and under its cap. */
    if (!standin_post("/_standin/reset", NULL)) {
        fprintf(stderr, "the stand-in did not reset its log\n");
        return 2;
    }

    client = standin_client();
    if (client != NULL && short_lived) {
        test_source_refreshes_before_expiry(client);
    } else if (client != NULL) {
        test_null_arguments(client);
        test_bad_strings(client);
        test_generate(client);
        test_introspect(client);
        test_bulk_revoke(client);
        test_source_caches(client);
        test_source_keeps_token(client);
        test_source_outlives_client(client);
        test_source_threads(client);
    }
    vf_client_free(client);
    return test_summary();
}
