/*
 * test_rate_limits: rate limits and quotas through the C API against the
 * local stand-in: absurd numbers from the server, QUOTA_EXCEEDED, the
 * X-Rate-Limit-Type accessors, the pause every thread of a client keeps
 * (vf_client_paused_until), a bulk revoke against a real per-window limit,
 * and a timed-out first attempt retried within the total timeout.
 * Run it with tests/c/run.sh.
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

static vf_client *client_with_timeout(unsigned timeout_ms)
{
    vf_config *cfg = standin_config();

    CHECK_STATUS(vf_config_set_timeout_ms(cfg, timeout_ms, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_retry_base_delay_ms(cfg, 20, NULL), VF_STATUS_OK);
    return client_from(cfg);
}

/*
 * Under valgrind one thread runs at a time, many times slower: the checks
 * of timing are left to the sanitizer run of this program, which runs at
 * full speed; valgrind still watches every path for memory errors.
 */
static int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");

    return preload != NULL && strstr(preload, "valgrind") != NULL;
}

static double unix_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void test_absurd_numbers_neither_crash_nor_wait(void)
{
    /* Long enough for a slow first request under valgrind. */
    vf_client *client = client_with_timeout(10000);
    vf_error *err = NULL;
    int64_t until = 0;
    char *token = mint_token();
    double start;

    /* The first call of a process is slow under valgrind: not the one timed. */
    CHECK_STATUS(vf_revoke_token(client, "warm-up", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/faults",
                       "[{\"respond\":{\"status\":429,\"headers\":{\"Retry-After\":\"9223372036854775807\","
                       "\"X-Rate-Limit-Retry\":\"-9223372036854775808\",\"X-Rate-Limit-Remaining\":\"0\","
                       "\"X-Rate-Limit-Type\":\"api_calls\"}}}]"));
    start = now_ms();
    CHECK_STATUS(vf_revoke_token(client, token, &err), VF_STATUS_RATE_LIMITED);
    /* Not slept, not even until the 10 s deadline (valgrind is slow). */
    CHECK(now_ms() - start < 5000);
    CHECK(vf_error_retry_after_s(err) == INT64_MAX);
    CHECK(vf_error_rate_limit_retry_at(err) == INT64_MIN);
    CHECK(str_eq(vf_error_rate_limit_type(err), "api_calls"));
    vf_error_free(err);
    err = NULL;

    /* Every caller of the client now sees the pause, and keeps it. */
    CHECK_STATUS(vf_client_paused_until(client, &until, NULL), VF_STATUS_OK);
    CHECK(until > unix_ms() + 86400000.0);
    start = now_ms();
    CHECK_ERROR(vf_revoke_token(client, token, &err), err, VF_STATUS_RATE_LIMITED, 0, token);
    CHECK(now_ms() - start < 5000);
    CHECK(request_count() == 1);
    free(token);
    vf_client_free(client);
}

static void test_quota_exceeded_is_not_retried(void)
{
    vf_client *client = standin_client();
    vf_error *err = NULL;
    char *token = mint_token();
    char *type = NULL;

    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/behaviour", "{\"cycle_calls\":0}"));
    CHECK_STATUS(vf_revoke_token(client, token, &err), VF_STATUS_QUOTA_EXCEEDED);
    CHECK(vf_error_http_status(err) == 429);
    CHECK(vf_error_attempts(err) == 1);
    CHECK(str_eq(vf_error_rate_limit_type(err), "api_calls_cycle"));
    CHECK(str_eq(vf_status_str(vf_error_status(err)), "VF_STATUS_QUOTA_EXCEEDED"));
    vf_error_free(err);
    err = NULL;
    CHECK(request_count() == 1);

    CHECK_STATUS(vf_client_rate_limit_type(client, &type, NULL), VF_STATUS_OK);
    CHECK(str_eq(type, "api_calls_cycle"));
    vf_string_free(type);
    CHECK_NULL_ARG(vf_client_rate_limit_type(NULL, &type, err_out));
    CHECK_NULL_ARG(vf_client_rate_limit_type(client, NULL, err_out));
    CHECK_NULL_ARG(vf_client_paused_until(NULL, NULL, err_out));
    CHECK(vf_error_rate_limit_type(NULL) == NULL);

    /* That answer also said the cycle's calls are spent until its end: the
     * client is paused, and a call is refused as QUOTA_EXCEEDED unsent. */
    CHECK_ERROR(vf_revoke_token(client, token, &err), err, VF_STATUS_QUOTA_EXCEEDED, 0, token);
    CHECK(request_count() == 1);
    vf_client_free(client);

    client = standin_client();
    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/behaviour", "{\"plan_calls\":0}"));
    CHECK_ERROR(vf_revoke_token(client, token, &err), err, VF_STATUS_QUOTA_EXCEEDED, 402, token);
    CHECK(request_count() == 1);
    CHECK(standin_post("/_standin/reset", NULL));
    free(token);
    vf_client_free(client);
}

struct revoker {
    vf_client *client;
    char *token;
    vf_status status;
    double done_ms;
};

static void *revoke_in_thread(void *arg)
{
    struct revoker *r = arg;

    r->status = vf_revoke_token(r->client, r->token, NULL);
    r->done_ms = now_ms();
    return NULL;
}

#define THREADS 4

/* One thread's 429 with Retry-After: 2 holds every other thread back
 * (2 s: valgrind runs one thread at a time, and slowly). */
static void test_one_429_pauses_every_thread(void)
{
    vf_client *client = client_with_timeout(10000);
    struct revoker revokers[THREADS];
    pthread_t threads[THREADS];
    int64_t until = -1;
    double start;
    long sent;
    int i;

    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/faults", "[{\"respond\":{\"status\":429,\"headers\":{\"Retry-After\":\"2\"}}}]"));
    start = now_ms();
    for (i = 0; i < THREADS; i++) {
        revokers[i] = (struct revoker){client, mint_token(), VF_STATUS_INTERNAL, 0};
        pthread_create(&threads[i], NULL, revoke_in_thread, &revokers[i]);
        if (i == 0) {
            /* The first thread meets the 429; the others start paused. */
            while (until < 0 && now_ms() - start < 2000) {
                sleep_ms(1);
                CHECK_STATUS(vf_client_paused_until(client, &until, NULL), VF_STATUS_OK);
            }
            CHECK(until > unix_ms() + 1000 && until < unix_ms() + 2100);
        }
    }
    sleep_ms(100);
    sent = request_count();
    sleep_ms(500);
    if (!under_valgrind()) {
        CHECK(request_count() == sent);
        CHECK(until > unix_ms()); /* the check ended within the pause */
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_STATUS(revokers[i].status, VF_STATUS_OK);
        CHECK(revokers[i].done_ms - start >= 1950);
        free(revokers[i].token);
    }
    CHECK(request_count() == THREADS + 1);
    CHECK_STATUS(vf_client_paused_until(client, &until, NULL), VF_STATUS_OK);
    CHECK(until == -1);
    vf_client_free(client);
}

/* A real limit of 5 calls per 1-s window: 12 tokens take three windows,
 * with at most one 429 per window. */
static void test_bulk_revoke_paced_by_the_limit(void)
{
    enum { COUNT = 12 };
    vf_client *client = client_with_timeout(10000);
    char *tokens[COUNT];
    vf_status statuses[COUNT];
    double start, took;
    int i, ok = 0;

    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/behaviour", "{\"rate_limit\":{\"calls\":5,\"window_secs\":1}}"));
    for (i = 0; i < COUNT; i++)
        tokens[i] = mint_token();
    /* Start just after a window opens: the last call may go 2 s later. */
    while ((long)unix_ms() % 1000 > 100)
        sleep_ms(5);
    start = now_ms();
    CHECK_STATUS(vf_revoke_tokens(client, (const char *const *)tokens, COUNT, 4, statuses, NULL, NULL),
                 VF_STATUS_OK);
    took = now_ms() - start;
    for (i = 0; i < COUNT; i++) {
        ok += statuses[i] == VF_STATUS_OK;
        free(tokens[i]);
    }
    CHECK(ok == COUNT);
    CHECK(standin_stat("refused_by_limit") <= 3);
    /* Valgrind slows each call: a wider upper bound than the Rust test's. */
    CHECK(took >= 1800);
    CHECK(under_valgrind() || took < 3500);
    fprintf(stderr, "    paced bulk revoke: %.0f ms, %ld 429s\n", took, standin_stat("refused_by_limit"));
    CHECK(standin_post("/_standin/reset", NULL));
    vf_client_free(client);
}

/* 3 attempts in 1.5 s: the first waits 0.5 s for an answer, then retries. */
static void test_a_hung_first_attempt_is_retried(void)
{
    vf_client *client = client_with_timeout(1500);
    char *token = mint_token();
    double start, took;

    CHECK(standin_post("/_standin/reset", NULL));
    CHECK(standin_post("/_standin/faults", "[\"hang\"]"));
    start = now_ms();
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    took = now_ms() - start;
    CHECK(took >= 480);
    CHECK(under_valgrind() || took < 1500);
    CHECK(request_count() == 2);
    free(token);
    vf_client_free(client);
}

int main(void)
{
    if (!standin_init())
        return 2;
    test_absurd_numbers_neither_crash_nor_wait();
    test_quota_exceeded_is_not_retried();
    test_one_429_pauses_every_thread();
    test_bulk_revoke_paced_by_the_limit();
    test_a_hung_first_attempt_is_retried();
    return test_summary();
}
