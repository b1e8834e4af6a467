/*
 * test_progress: vf_revoke_tokens_with_progress() and vf_client_cancel()
 * through the C API against the local stand-in: the callback's calls, a
 * stop, refused entries, and a cancel from another thread ending a long
 * Retry-After wait. Run it with tests/c/run.sh.
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define COUNT 100
#define PARALLELISM 4

/* What the callback saw; it needs no lock: the calls are serialised. */
struct seen {
    int calls[COUNT];
    int total;
    int stop_at; /* 0: never stop */
    int with_error;
    int error_mismatch;
};

static int on_progress(void *user_data, size_t index, vf_status status, const vf_error *error)
{
    struct seen *seen = user_data;

    if (index < COUNT)
        seen->calls[index]++;
    seen->total++;
    if (error != NULL) {
        seen->with_error++;
        if (vf_error_status(error) != status || vf_error_message(error) == NULL)
            seen->error_mismatch++;
    } else if (status != VF_STATUS_OK) {
        seen->error_mismatch++;
    }
    return seen->stop_at != 0 && seen->total == seen->stop_at;
}

static char **mint_tokens(int n)
{
    char **tokens = calloc((size_t)n, sizeof *tokens);
    int i;

    for (i = 0; i < n; i++)
        tokens[i] = mint_token();
    return tokens;
}

static void free_tokens(char **tokens, int n)
{
    int i;

    for (i = 0; i < n; i++)
        free(tokens[i]);
    free(tokens);
}

static void test_progress_once_per_token(void)
{
    vf_client *client = single_attempt_client();
    char **tokens = mint_tokens(COUNT);
    vf_status statuses[COUNT];
    static struct seen seen;
    long before;
    int i, once = 1;

    free(tokens[7]);
    tokens[7] = strdup("unknown-token");
    before = request_count();
    CHECK_STATUS(vf_revoke_tokens_with_progress(client, (const char *const *)tokens, COUNT, PARALLELISM,
                                                on_progress, &seen, statuses, NULL, NULL),
                 VF_STATUS_OK);
    for (i = 0; i < COUNT; i++)
        once = once && seen.calls[i] == 1;
    CHECK(once);
    CHECK(seen.total == COUNT);
    CHECK(seen.with_error == 1);
    CHECK(seen.error_mismatch == 0);
    CHECK_STATUS(statuses[7], VF_STATUS_TOKEN_NOT_FOUND);
    CHECK_STATUS(statuses[8], VF_STATUS_OK);
    CHECK(request_count() - before == COUNT);
    free_tokens(tokens, COUNT);
    vf_client_free(client);
}

static void test_stop_sends_nothing_more_than_in_flight(void)
{
    vf_client *client = single_attempt_client();
    char **tokens = mint_tokens(COUNT);
    vf_status statuses[COUNT];
    vf_error *errors[COUNT];
    static struct seen seen;
    long before, sent;
    int i, revoked = 0, unsent = 0, bad_unsent = 0;

    seen.stop_at = 20;
    before = request_count();
    CHECK_STATUS(vf_revoke_tokens_with_progress(client, (const char *const *)tokens, COUNT, PARALLELISM,
                                                on_progress, &seen, statuses, errors, NULL),
                 VF_STATUS_OK);
    sent = request_count() - before;
    CHECK(sent >= 20 && sent <= 20 + PARALLELISM);
    for (i = 0; i < COUNT; i++) {
        if (statuses[i] == VF_STATUS_OK) {
            revoked++;
            CHECK(errors[i] == NULL);
        } else {
            unsent++;
            if (statuses[i] != VF_STATUS_CANCELLED || errors[i] == NULL || vf_error_attempts(errors[i]) != 0)
                bad_unsent++;
        }
        vf_error_free(errors[i]);
    }
    /* Every token sent was reported, and revoked; the rest were not sent. */
    CHECK(revoked == sent);
    CHECK(seen.total == sent);
    CHECK(revoked + unsent == COUNT);
    CHECK(bad_unsent == 0);
    free_tokens(tokens, COUNT);
    vf_client_free(client);
}

static void test_refused_entries_and_null_arguments(void)
{
    vf_client *client = single_attempt_client();
    char *token = mint_token();
    const char *tokens[3] = {NULL, "", NULL};
    vf_status statuses[3];
    static struct seen seen;

    tokens[2] = token;
    CHECK_STATUS(vf_revoke_tokens_with_progress(client, tokens, 3, 2, on_progress, &seen, statuses, NULL, NULL),
                 VF_STATUS_OK);
    CHECK_STATUS(statuses[0], VF_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(statuses[1], VF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(statuses[2], VF_STATUS_OK);
    CHECK(seen.total == 3 && seen.with_error == 2 && seen.error_mismatch == 0);
    /* No callback: the same as vf_revoke_tokens(). */
    CHECK_STATUS(vf_revoke_tokens_with_progress(client, tokens + 2, 1, 0, NULL, NULL, statuses, NULL, NULL),
                 VF_STATUS_OK);
    CHECK_STATUS(statuses[0], VF_STATUS_TOKEN_NOT_FOUND);
    CHECK_NULL_ARG(vf_revoke_tokens_with_progress(NULL, tokens, 3, 2, on_progress, NULL, statuses, NULL, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens_with_progress(client, NULL, 3, 2, on_progress, NULL, statuses, NULL, err_out));
    CHECK_NULL_ARG(vf_revoke_tokens_with_progress(client, tokens, 3, 2, on_progress, NULL, NULL, NULL, err_out));
    CHECK_NULL_ARG(vf_client_cancel(NULL, err_out));
    free(token);
    vf_client_free(client);
}

struct waiting_call {
    vf_client *client;
    char *token;
    vf_status status;
    unsigned attempts;
    double returned_at;
};

static void *revoke_in_thread(void *arg)
{
    struct waiting_call *call = arg;
    vf_error *err = NULL;

    call->status = vf_revoke_token(call->client, call->token, &err);
    call->returned_at = now_ms();
    call->attempts = err != NULL ? vf_error_attempts(err) : 0;
    vf_error_free(err);
    return NULL;
}

static void test_cancel_ends_a_long_retry_wait(void)
{
    vf_config *cfg = standin_config();
    struct waiting_call call;
    pthread_t thread;
    double cancelled_at;
    long before;

    /* Long enough that the 30 s wait is honoured rather than skipped. */
    CHECK_STATUS(vf_config_set_timeout_ms(cfg, 60000, NULL), VF_STATUS_OK);
    call.client = client_from(cfg);
    call.token = mint_token();
    before = request_count();
    CHECK(standin_post("/_standin/faults",
                       "[{\"respond\":{\"status\":429,\"headers\":{\"Retry-After\":\"30\"},\"body\":\"\"}}]"));
    CHECK(pthread_create(&thread, NULL, revoke_in_thread, &call) == 0);
    sleep_ms(500);
    cancelled_at = now_ms();
    CHECK_STATUS(vf_client_cancel(call.client, NULL), VF_STATUS_OK);
    pthread_join(thread, NULL);
    /* 100 ms in the Rust test; valgrind slows everything down. */
    CHECK(call.returned_at - cancelled_at < 1000);
    CHECK_STATUS(call.status, VF_STATUS_CANCELLED);
    CHECK(call.attempts == 1);
    CHECK(request_count() - before == 1);
    free(call.token);
    vf_client_free(call.client);
}

int main(void)
{
    if (!standin_init())
        return 2;
    test_progress_once_per_token();
    test_stop_sends_nothing_more_than_in_flight();
    test_refused_entries_and_null_arguments();
    test_cancel_ends_a_long_retry_wait();
    return test_summary();
}
