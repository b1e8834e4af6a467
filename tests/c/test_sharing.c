/*
 * test_sharing: one client or token source shared by threads and by
 * processes after fork(), against the local stand-in, through the C API.
 *
 *   test_sharing                 threads on one source (a hanging token
 *                                endpoint, a storm of refreshes after a 401),
 *                                the revoke when a source is freed (a hanging
 *                                server), and fork (concurrent revokes in parent and
 *                                child, fork during a mint, a child's use of
 *                                the parent's token); needs a plain stand-in
 *   test_sharing --tls CA_FILE   the concurrent revokes after fork only, over
 *                                TLS; needs a stand-in started with --tls
 *                                whose CA is in CA_FILE (run with ASan: under
 *                                valgrind, sends of TLS records are reported
 *                                as uninitialised bytes, in the parent with or
 *                                without fork)
 *
 * Prints "N passed, M failed" last and exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/*
 * Timeouts: long enough that valgrind on a busy machine does not time out
 * a call that should succeed; the timed test keeps its bounds apart from
 * what the failure would look like (one timeout per caller, in turn).
 */
#define TIMEOUT_MS 1000
#define PATIENT_MS 30000
static const char *ca_file; /* set in TLS mode */

static vf_client *client_with(uint32_t timeout_ms, uint32_t attempts)
{
    vf_config *cfg = standin_config();

    CHECK_STATUS(vf_config_set_timeout_ms(cfg, timeout_ms, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_max_attempts(cfg, attempts, NULL), VF_STATUS_OK);
    if (ca_file != NULL)
        CHECK_STATUS(vf_config_set_ca_file(cfg, ca_file, NULL), VF_STATUS_OK);
    return client_from(cfg);
}

/*
 * One call, so that the client has a pooled connection and the timed test
 * does not time the first call's setup. Under valgrind on a busy machine
 * that setup may outlast a short timeout: up to three tries.
 */
static void warm_up(const vf_client *client)
{
    int tries = 0;

    while (vf_revoke_token(client, "warm-up", NULL) == VF_STATUS_TIMEOUT && ++tries < 3)
        ;
    /* Empties the log and the fault queue: each test starts clean. */
    CHECK(standin_post("/_standin/reset", NULL));
}

/* ---- threads on one source ------------------------------------------------ */

#define THREADS 8

struct caller {
    vf_token_source *source;
    pthread_barrier_t *start;
    const char *rejected; /* NULL: ask for a token; else refresh after a 401 */
    char *token;
    vf_status status;
    double took_ms;
};

static void *call_source(void *arg)
{
    struct caller *c = arg;
    double began;

    pthread_barrier_wait(c->start); /* all threads call at the same moment */
    began = now_ms();
    if (c->rejected == NULL)
        c->status = vf_token_source_access_token(c->source, &c->token, NULL);
    else
        c->status = vf_token_source_refresh_rejected(c->source, c->rejected, &c->token, NULL);
    c->took_ms = now_ms() - began;
    return NULL;
}

/* Runs n callers of the source at once; returns the slowest's time. */
static double call_at_once(struct caller *callers, int n, vf_token_source *source, const char *rejected)
{
    pthread_barrier_t start;
    pthread_t threads[THREADS];
    double slowest = 0;
    int i;

    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (i = 0; i < n; i++) {
        callers[i].source = source;
        callers[i].start = &start;
        callers[i].rejected = rejected;
        callers[i].token = NULL;
        callers[i].status = (vf_status)99;
        if (pthread_create(&threads[i], NULL, call_source, &callers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            abort(); /* the others would wait at the barrier forever */
        }
    }
    for (i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        if (callers[i].took_ms > slowest)
            slowest = callers[i].took_ms;
    }
    pthread_barrier_destroy(&start);
    return slowest;
}

static void free_tokens(struct caller *callers, int n)
{
    int i;

    for (i = 0; i < n; i++)
        vf_string_free(callers[i].token);
}

/* Six callers and a token endpoint that never answers: one request, all
 * answered TIMEOUT within about one timeout (not one timeout each in turn). */
static void test_hanging_mint_is_shared(void)
{
    vf_client *client = client_with(TIMEOUT_MS, 1);
    vf_token_source *source = NULL;
    struct caller callers[6];
    long before;
    double slowest;
    int i;

    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    warm_up(client);
    before = request_count();
    CHECK(standin_post("/_standin/faults", "[\"hang\"]"));
    slowest = call_at_once(callers, 6, source, NULL);
    for (i = 0; i < 6; i++)
        CHECK_STATUS(callers[i].status, VF_STATUS_TIMEOUT);
    printf("    slowest of 6 callers: %.0f ms against a timeout of %d ms\n", slowest, TIMEOUT_MS);
    /* Below two timeouts: callers served in turn would take one each. */
    CHECK(slowest >= TIMEOUT_MS - 10 && slowest < 1.9 * TIMEOUT_MS);
    if (!CHECK(request_count() == before + 1))
        fprintf(stderr, "    %ld requests\n", request_count() - before);
    free_tokens(callers, 6);
    vf_token_source_free(source);
    vf_client_free(client);
}

/* Eight threads answered 401 with one token refresh at once: one mint, one
 * new token for all; a late refresh for the old token mints nothing. */
static void test_refresh_storm_mints_once(void)
{
    vf_client *client = client_with(PATIENT_MS, 1);
    vf_token_source *source = NULL;
    struct caller callers[THREADS];
    char *rejected = NULL, *late = NULL;
    long before;
    int i;

    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    warm_up(client);
    CHECK_STATUS(vf_token_source_access_token(source, &rejected, NULL), VF_STATUS_OK);
    before = mint_count();
    call_at_once(callers, THREADS, source, rejected);
    for (i = 0; i < THREADS; i++) {
        CHECK_STATUS(callers[i].status, VF_STATUS_OK);
        CHECK(callers[i].token != NULL && !str_eq(callers[i].token, rejected));
        CHECK(str_eq(callers[i].token, callers[0].token));
    }
    CHECK_STATUS(vf_token_source_refresh_rejected(source, rejected, &late, NULL), VF_STATUS_OK);
    CHECK(str_eq(late, callers[0].token));
    if (!CHECK(mint_count() == before + 1))
        fprintf(stderr, "    %ld mints\n", mint_count() - before);

    CHECK_NULL_ARG(vf_token_source_refresh_rejected(NULL, rejected, &late, err_out));
    CHECK_NULL_ARG(vf_token_source_refresh_rejected(source, NULL, &late, err_out));
    CHECK_NULL_ARG(vf_token_source_refresh_rejected(source, rejected, NULL, err_out));
    CHECK_FAILS(vf_token_source_refresh_rejected(source, "\xff", &late, err_out), VF_STATUS_INVALID_UTF8);

    free_tokens(callers, THREADS);
    vf_string_free(rejected);
    vf_string_free(late);
    vf_token_source_free(source);
    vf_client_free(client);
}

/* Freeing a source revokes its token with one request (no retry, although
 * the client allows three attempts) within one timeout, against a server
 * that never answers. */
static void test_free_revokes_once_within_one_timeout(void)
{
    vf_client *client = client_with(TIMEOUT_MS, 3);
    vf_token_source *source = NULL;
    char *token = NULL;
    double began, took;
    long before;

    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    warm_up(client);
    CHECK_STATUS(vf_token_source_access_token(source, &token, NULL), VF_STATUS_OK);
    before = request_count();
    CHECK(standin_post("/_standin/faults", "[\"hang\", \"hang\", \"hang\"]"));
    began = now_ms();
    vf_token_source_free(source);
    took = now_ms() - began;
    printf("    free against a hanging server: %.0f ms, timeout %d ms\n", took, TIMEOUT_MS);
    CHECK(took >= TIMEOUT_MS - 10 && took < 1.9 * TIMEOUT_MS);
    if (!CHECK(request_count() == before + 1))
        fprintf(stderr, "    %ld requests\n", request_count() - before);
    CHECK(standin_post("/_standin/reset", NULL)); /* the unused hangs */
    vf_string_free(token);
    vf_client_free(client);
}

/* ---- fork ---------------------------------------------------------------- */

/*
 * Waits for a child for at most limit_ms, killing it past that. Returns
 * its exit status, -1 if it died of a signal, -2 if it had to be killed.
 */
static int wait_child(pid_t child, double limit_ms, double *took_ms)
{
    double began = now_ms();
    int status = 0;

    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        *took_ms = now_ms() - began;
        if (done == child)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (done < 0 || *took_ms > limit_ms) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            return -2;
        }
        sleep_ms(5);
    }
}

#define FORKS 12

/*
 * Parent and child revoke at the same moment on one client made and used
 * before fork(), with answers that differ: the parent's live token is
 * revoked (OK), the child's unknown one is not found. If the two shared the
 * pooled connection, answers would cross or be cut (a parse error). Many
 * rounds, each with a fresh fork of a client whose pool is warm.
 */
static void test_fork_revokes_concurrently(void)
{
    vf_client *client = client_with(PATIENT_MS, 1);
    int round;

    for (round = 0; round < FORKS; round++) {
        vf_token *token = NULL;
        vf_error *err = NULL;
        vf_status got;
        double took;
        pid_t child;
        int status;

        /* Minted through the client: its pool now holds a connection. */
        if (!CHECK_STATUS(vf_generate_token(client, "api", &token, &err), VF_STATUS_OK)) {
            fprintf(stderr, "    round %d: %s\n", round, vf_error_message(err));
            vf_error_free(err);
            break;
        }
        fflush(stdout);
        child = fork();
        if (child == 0) {
            char unknown[64];
            int ok = 1, i;
            for (i = 0; i < 3 && ok; i++) {
                snprintf(unknown, sizeof unknown, "unknown-to-the-child-%d-%d", round, i);
                ok = vf_revoke_token(client, unknown, NULL) == VF_STATUS_TOKEN_NOT_FOUND;
            }
            vf_token_free(token);
            vf_client_free(client); /* drops the inherited pool: no shutdown */
            exit(ok ? 0 : 1);
        }
        CHECK(child > 0);
        got = vf_revoke_token(client, vf_token_access_token(token), &err);
        if (!CHECK_STATUS(got, VF_STATUS_OK))
            fprintf(stderr, "    round %d: %s\n", round, vf_error_message(err));
        vf_error_free(err);
        err = NULL;
        /* And once more: the token is gone, for the parent only. */
        CHECK_STATUS(vf_revoke_token(client, vf_token_access_token(token), NULL), VF_STATUS_TOKEN_NOT_FOUND);
        status = wait_child(child, PATIENT_MS, &took);
        if (!CHECK(status == 0))
            fprintf(stderr, "    round %d: the child exited %d\n", round, status);
        vf_token_free(token);
    }
    /* The parent's pool still works after every child freed its copy. */
    CHECK_STATUS(vf_revoke_token(client, "unknown-after-the-children", NULL), VF_STATUS_TOKEN_NOT_FOUND);
    vf_client_free(client);
}

struct minter {
    vf_token_source *source;
    vf_status status;
};

static void *mint_in_thread(void *arg)
{
    struct minter *m = arg;
    char *token = NULL;

    m->status = vf_token_source_access_token(m->source, &token, NULL);
    vf_string_free(token);
    return NULL;
}

/*
 * fork() while another thread is inside the library, minting against a
 * server that does not answer: the child, which has no such thread, must
 * not wait for that mint. It mints its own and exits well within the
 * timeout (the parent's mint takes the whole timeout).
 */
static void test_fork_during_a_mint(void)
{
    const double timeout_ms = 8000;
    vf_client *client = client_with((uint32_t)timeout_ms, 1);
    vf_token_source *source = NULL;
    struct minter minter;
    pthread_t thread;
    int result[2];
    char ok = 0;
    double took;
    pid_t child;
    int status;

    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    warm_up(client);
    CHECK(standin_post("/_standin/faults", "[\"hang\"]"));
    minter.source = source;
    if (pthread_create(&thread, NULL, mint_in_thread, &minter) != 0)
        abort();
    sleep_ms(500); /* the thread is now waiting for the hanging answer */
    fflush(stdout);
    if (!CHECK(pipe(result) == 0))
        return;
    child = fork();
    if (child == 0) {
        char *token = NULL;
        char answered = vf_token_source_access_token(source, &token, NULL) == VF_STATUS_OK && token != NULL;
        vf_string_free(token);
        /*
         * Reports through the pipe, then dies by SIGKILL rather than exiting:
         * at a clean exit valgrind would count as leaked what only the
         * parent's minting thread pointed to, a thread this process lacks.
         */
        if (write(result[1], &answered, 1) != 1)
            _exit(1);
        raise(SIGKILL);
    }
    close(result[1]);
    /* Before the parent's mint times out: the child did not wait for it. */
    status = wait_child(child, timeout_ms * 0.75, &took);
    printf("    child of a fork during a hanging mint: answered after %.0f ms (%s)\n", took,
           status == -2 ? "killed: it hung" : "then ended");
    CHECK(status == -1 && read(result[0], &ok, 1) == 1 && ok);
    close(result[0]);
    pthread_join(thread, NULL);
    CHECK_STATUS(minter.status, VF_STATUS_TIMEOUT);
    vf_token_source_free(source);
    vf_client_free(client);
}

/*
 * A child uses the token its parent's source minted, without a request,
 * and freeing the source in the child does not revoke the parent's token.
 */
static void test_child_uses_but_does_not_revoke_the_parents_token(void)
{
    vf_client *client = client_with(PATIENT_MS, 1);
    vf_token_source *source = NULL;
    vf_token *about = NULL;
    char *token = NULL;
    bool active = false;
    long before;
    double took;
    pid_t child;

    CHECK_STATUS(vf_token_source_new(client, "api", &source, NULL), VF_STATUS_OK);
    warm_up(client);
    if (!CHECK_STATUS(vf_token_source_access_token(source, &token, NULL), VF_STATUS_OK))
        return;
    before = request_count();
    fflush(stdout);
    child = fork();
    if (child == 0) {
        char *in_child = NULL;
        int same = vf_token_source_access_token(source, &in_child, NULL) == VF_STATUS_OK
                   && str_eq(in_child, token);
        vf_string_free(in_child);
        vf_string_free(token);
        vf_token_source_free(source); /* the parent's token: not revoked */
        vf_client_free(client);
        exit(same ? 0 : 1);
    }
    CHECK(wait_child(child, PATIENT_MS, &took) == 0);
    CHECK(request_count() == before);
    CHECK_STATUS(vf_introspect_token(client, token, &active, &about, NULL), VF_STATUS_OK);
    CHECK(active);
    vf_token_free(about);
    vf_string_free(token);
    vf_token_source_free(source); /* the parent's own: revoked */
    CHECK(request_count() == before + 2);
    vf_client_free(client);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--tls") == 0) {
        /* testlib's control requests speak plain HTTP: only library calls here. */
        ca_file = argv[2];
        standin_url = getenv("VF_STANDIN_URL");
        standin_app_id = getenv("VF_STANDIN_APP_ID");
        standin_secret = getenv("VF_STANDIN_SECRET_KEY");
        if (standin_url == NULL || strncmp(standin_url, "https://127.0.0.1:", 18) != 0
            || standin_app_id == NULL || standin_secret == NULL) {
            fprintf(stderr, "run me under scripts/with-standin --tls\n");
            return 2;
        }
        printf("fork: concurrent revokes in parent and child over TLS\n");
        test_fork_revokes_concurrently();
        return test_summary();
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--tls CA_FILE]\n", argv[0]);
        return 2;
    }
    if (!standin_init())
        return 2;
    printf("threads: a hanging mint shared by six callers\n");
    test_hanging_mint_is_shared();
    printf("threads: eight refreshes after one 401\n");
    test_refresh_storm_mints_once();
    printf("free: one revoke within one timeout\n");
    test_free_revokes_once_within_one_timeout();
    printf("fork: concurrent revokes in parent and child\n");
    test_fork_revokes_concurrently();
    printf("fork: during a mint in another thread\n");
    test_fork_during_a_mint();
    printf("fork: the child uses the parent's token and does not revoke it\n");
    test_child_uses_but_does_not_revoke_the_parents_token();
    return test_summary();
}
