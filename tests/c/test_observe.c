/*
 * test_observe: the log callback and the counters through the C API
 * against the local stand-in: each record once per event at its level, no
 * record below the level asked for, no secret in any record, and counters
 * that agree with the stand-in's own count. Run it with tests/c/run.sh.
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MAX_RECORDS 256

/* Records arrive from several threads at once: the header says so. */
struct records {
    pthread_mutex_t lock;
    int count;
    int levels[MAX_RECORDS];
    char *texts[MAX_RECORDS];
};

static void on_record(void *user_data, int level, const char *message)
{
    struct records *r = user_data;

    pthread_mutex_lock(&r->lock);
    if (r->count < MAX_RECORDS) {
        r->levels[r->count] = level;
        r->texts[r->count] = strdup(message);
        r->count++;
    }
    pthread_mutex_unlock(&r->lock);
}

static int has(const struct records *r, int level, const char *text)
{
    int i;

    for (i = 0; i < r->count; i++)
        if (r->levels[i] == level && strstr(r->texts[i], text) != NULL)
            return 1;
    fprintf(stderr, "    no record at level %d with \"%s\"\n", level, text);
    return 0;
}

static void clear(struct records *r)
{
    int i;

    for (i = 0; i < r->count; i++)
        free(r->texts[i]);
    r->count = 0;
}

static void test_a_retried_revoke_is_told_and_counted(void)
{
    struct records r = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {0}};
    vf_config *cfg = standin_config();
    vf_counters counters;
    vf_client *client;
    char *token = mint_token();
    long before;
    int i;

    CHECK_STATUS(vf_config_set_log_callback(cfg, on_record, &r, VF_LOG_LEVEL_TRACE, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL || token == NULL)
        return;
    before = request_count();
    CHECK(standin_post("/_standin/faults",
                       "[{\"respond\":{\"status\":503,\"body\":\"\"}},"
                       "{\"respond\":{\"status\":503,\"headers\":{\"Retry-After\":\"1\"},\"body\":\"\"}}]"));
    CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);

    CHECK(has(&r, VF_LOG_LEVEL_DEBUG, "POST /v1/oauth/token/revoke: sending, attempt 1 of 3"));
    CHECK(has(&r, VF_LOG_LEVEL_DEBUG, "HTTP 503 in "));
    CHECK(has(&r, VF_LOG_LEVEL_WARN, "retry scheduled in "));
    CHECK(has(&r, VF_LOG_LEVEL_WARN, "rate-limit pause of 1000 ms"));
    CHECK(has(&r, VF_LOG_LEVEL_DEBUG, "HTTP 204 in "));
    CHECK(has(&r, VF_LOG_LEVEL_DEBUG, "connection opened to 127.0.0.1:"));
    for (i = 0; i < r.count; i++) {
        CHECK(strstr(r.texts[i], standin_secret) == NULL);
        CHECK(strstr(r.texts[i], token) == NULL);
        CHECK(strchr(r.texts[i], '\n') == NULL);
    }

    memset(&counters, 0xff, sizeof counters);
    counters.size = sizeof counters;
    CHECK_STATUS(vf_client_counters(client, &counters, NULL), VF_STATUS_OK);
    CHECK(counters.size == sizeof counters);
    CHECK(counters.requests == (uint64_t)(request_count() - before));
    CHECK(counters.requests == 3 && counters.retries == 2 && counters.calls == 1);
    CHECK(counters.answers_2xx == 1 && counters.answers_5xx == 2 && counters.answers_4xx == 0);
    CHECK(counters.paused_ms >= 1000 && counters.connections_opened >= 1);

    /* A program built against a shorter, older struct gets no byte more. */
    {
        unsigned char buffer[sizeof(size_t) + 2 * sizeof(uint64_t) + 8];
        size_t old_size = sizeof(size_t) + 2 * sizeof(uint64_t);
        uint64_t calls;

        memset(buffer, 0xab, sizeof buffer);
        memcpy(buffer, &old_size, sizeof old_size);
        CHECK_STATUS(vf_client_counters(client, (vf_counters *)(void *)buffer, NULL), VF_STATUS_OK);
        memcpy(&calls, buffer + sizeof(size_t), sizeof calls);
        CHECK(calls == 1);
        CHECK(buffer[old_size] == 0xab && buffer[sizeof buffer - 1] == 0xab);
        old_size = 1;
        memcpy(buffer, &old_size, sizeof old_size);
        CHECK_FAILS(vf_client_counters(client, (vf_counters *)(void *)buffer, err_out), VF_STATUS_INVALID_ARGUMENT);
    }
    CHECK_NULL_ARG(vf_client_counters(NULL, &counters, err_out));
    CHECK_NULL_ARG(vf_client_counters(client, NULL, err_out));
    vf_client_free(client);
    clear(&r);
    free(token);
}

static void test_nothing_below_the_level(void)
{
    struct records r = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {0}};
    vf_config *cfg = standin_config();
    vf_client *client;
    char *token = mint_token();

    CHECK_STATUS(vf_config_set_log_callback(cfg, on_record, &r, VF_LOG_LEVEL_WARN, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client != NULL && token != NULL)
        CHECK_STATUS(vf_revoke_token(client, token, NULL), VF_STATUS_OK);
    CHECK(r.count == 0);
    vf_client_free(client);

    /* A NULL callback removes it; an unknown level is refused. */
    cfg = standin_config();
    CHECK_FAILS(vf_config_set_log_callback(cfg, on_record, &r, 0, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_FAILS(vf_config_set_log_callback(cfg, on_record, &r, 6, err_out), VF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(vf_config_set_log_callback(cfg, on_record, &r, VF_LOG_LEVEL_TRACE, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_log_callback(cfg, NULL, NULL, VF_LOG_LEVEL_TRACE, NULL), VF_STATUS_OK);
    CHECK_NULL_ARG(vf_config_set_log_callback(NULL, on_record, &r, VF_LOG_LEVEL_WARN, err_out));
    client = client_from(cfg);
    if (client != NULL)
        CHECK_STATUS(vf_revoke_token(client, "unknown-token", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    CHECK(r.count == 0);
    vf_client_free(client);
    free(token);
}

/* A token source's events and counters: the first token, a renewal, a
 * renewal that fails, the revoke on free. */
static void test_a_token_source_is_told_and_counted(void)
{
    struct records r = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {0}};
    vf_config *cfg = standin_config();
    vf_source_counters counters;
    vf_token_source *source = NULL;
    vf_error *err = NULL;
    vf_client *client;
    char *first = NULL, *second = NULL;
    long before;
    int i;

    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_log_callback(cfg, on_record, &r, VF_LOG_LEVEL_INFO, NULL), VF_STATUS_OK);
    client = client_from(cfg);
    if (client == NULL)
        return;
    before = request_count();
    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    memset(&counters, 0xff, sizeof counters);
    counters.size = sizeof counters;
    CHECK_STATUS(vf_token_source_counters(source, &counters, NULL), VF_STATUS_OK);
    CHECK(counters.size == sizeof counters && counters.mints == 0 && counters.expires_in_s == -1);

    CHECK_STATUS(vf_token_source_access_token(source, &first, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_token_source_refresh_rejected(source, first, &second, NULL), VF_STATUS_OK);
    CHECK(standin_post("/_standin/faults", "[{\"respond\":{\"status\":503,\"body\":\"\"}}]"));
    CHECK_ERROR(vf_token_source_refresh(source, &err), err, VF_STATUS_SERVER_ERROR, 503, standin_secret);

    CHECK_STATUS(vf_token_source_counters(source, &counters, NULL), VF_STATUS_OK);
    CHECK(counters.mints == 2 && counters.renewals == 1);
    CHECK(counters.mint_failures == 1 && counters.renewal_failures == 1);
    CHECK(counters.expires_in_s >= 898 && counters.expires_in_s <= 900);
    CHECK(counters.mints + counters.mint_failures == (uint64_t)(request_count() - before));
    CHECK_NULL_ARG(vf_token_source_counters(NULL, &counters, err_out));
    CHECK_NULL_ARG(vf_token_source_counters(source, NULL, err_out));
    counters.size = 1;
    CHECK_FAILS(vf_token_source_counters(source, &counters, err_out), VF_STATUS_INVALID_ARGUMENT);
    vf_token_source_free(source);

    CHECK(has(&r, VF_LOG_LEVEL_INFO, "token source \"api\": first token minted, expires in 900 s"));
    CHECK(has(&r, VF_LOG_LEVEL_INFO, "token source \"api\": token renewed with "));
    CHECK(has(&r, VF_LOG_LEVEL_ERROR, "token source \"api\": renewal failed, no valid token to give"));
    CHECK(has(&r, VF_LOG_LEVEL_INFO, "token source \"api\": token revoked on free"));
    for (i = 0; i < r.count; i++) {
        CHECK(strstr(r.texts[i], standin_secret) == NULL);
        CHECK(first == NULL || strstr(r.texts[i], first) == NULL);
        CHECK(second == NULL || strstr(r.texts[i], second) == NULL);
    }
    vf_client_free(client);
    vf_string_free(first);
    vf_string_free(second);
    clear(&r);
}

int main(void)
{
    if (!standin_init())
        return 2;
    test_a_retried_revoke_is_told_and_counted();
    test_nothing_below_the_level();
    test_a_token_source_is_told_and_counted();
    return test_summary();
}
