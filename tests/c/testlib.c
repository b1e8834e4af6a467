/* testlib: see testlib.h. */
#define _POSIX_C_SOURCE 200809L /* strndup, clock_gettime, nanosleep, sockets */

#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- assertions ---------------------------------------------------------- */

int passed, failed;

int check(int ok, const char *what, const char *file, int line)
{
    if (ok)
        passed++;
    else {
        failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

int check_status(int got, int want, const char *what, const char *file, int line)
{
    if (got == want) {
        passed++;
        return 1;
    }
    failed++;
    fprintf(stderr, "%s:%d: FAILED: %s gave %s, expected %s\n", file, line, what,
            vf_status_str(got), vf_status_str(want));
    return 0;
}

int str_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void check_error(vf_status got, vf_error *err, vf_status want, int want_http,
                 const char *hidden, const char *file, int line)
{
    const char *message = vf_error_message(err);

    check_status(got, want, "returned status", file, line);
    if (!check(err != NULL, "an error object was returned", file, line))
        return;
    check_status(vf_error_status(err), want, "vf_error_status()", file, line);
    if (want_http >= 0 && vf_error_http_status(err) != want_http) {
        fprintf(stderr, "    HTTP status %d, expected %d\n", vf_error_http_status(err), want_http);
        check(0, "vf_error_http_status()", file, line);
    }
    check(message != NULL && message[0] != '\0', "message is not empty", file, line);
    check(message == NULL || strstr(message, standin_secret) == NULL,
          "message does not contain the secret key", file, line);
    if (hidden != NULL && hidden[0] != '\0')
        check(message == NULL || strstr(message, hidden) == NULL,
              "message does not contain the token or secret of the call", file, line);
    vf_error_free(err);
}

int test_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* ---- the stand-in -------------------------------------------------------- */

const char *standin_url;
const char *standin_app_id;
const char *standin_secret;
int standin_port;

int standin_init(void)
{
    const char *port;

    standin_url = getenv("VF_STANDIN_URL");
    standin_app_id = getenv("VF_STANDIN_APP_ID");
    standin_secret = getenv("VF_STANDIN_SECRET_KEY");
    port = standin_url ? strrchr(standin_url, ':') : NULL;
    /* The control requests below speak to 127.0.0.1 only. */
    if (standin_app_id == NULL || standin_secret == NULL || port == NULL
        || strncmp(standin_url, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "run me under scripts/with-standin (VF_STANDIN_* unset)\n");
        return 0;
    }
    standin_port = atoi(port + 1);
    return 1;
}

int connect_local(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

char *standin_request(const char *method, const char *path, const char *body)
{
    char request[1024];
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ssize_t n;
    int fd = connect_local(standin_port);

    if (fd < 0)
        return NULL;
    if (body == NULL)
        body = "";
    /* Connection: close lets us simply read until EOF. */
    snprintf(request, sizeof request,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s", method, path, strlen(body), body);
    if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        close(fd);
        return NULL;
    }
    do {
        if (cap - len < 4096) {
            char *bigger = realloc(buf, cap + 65536);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap += 65536;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n > 0)
            len += (size_t)n;
    } while (n > 0);
    close(fd);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

int standin_post(const char *path, const char *body)
{
    char *response = standin_request("POST", path, body);
    int ok = response != NULL && strncmp(response, "HTTP/1.1 2", 10) == 0;

    free(response);
    return ok;
}

char *mint_token(void)
{
    char *response = standin_request("POST", "/_standin/mint?scope=api", NULL);
    const char *start = response ? strstr(response, "\"access_token\":\"") : NULL;
    char *token = NULL;

    if (start != NULL) {
        start += strlen("\"access_token\":\"");
        token = strndup(start, strcspn(start, "\""));
    }
    free(response);
    return token;
}

long standin_stat(const char *name)
{
    char *response = standin_request("GET", "/_standin/stats", NULL);
    char pattern[64];
    const char *field;
    long value;

    snprintf(pattern, sizeof pattern, "\"%s\":", name);
    field = response ? strstr(response, pattern) : NULL;
    value = field ? strtol(field + strlen(pattern), NULL, 10) : -1;
    free(response);
    return value;
}

long request_count(void)
{
    return standin_stat("requests");
}

double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* ---- library helpers ----------------------------------------------------- */

vf_config *standin_config(void)
{
    vf_config *cfg = vf_config_new();

    CHECK(cfg != NULL);
    /*
     * The stand-in speaks plain HTTP, so no roots are used; the built-in ones
     * load in a fraction of the time the system store takes to parse under
     * valgrind. The default (system) store is used by test_resilience and the
     * samples.
     */
    CHECK_STATUS(vf_config_set_tls_roots(cfg, VF_TLS_ROOTS_MOZILLA, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_app_id(cfg, standin_app_id, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_secret_key(cfg, standin_secret, NULL), VF_STATUS_OK);
    CHECK_STATUS(vf_config_set_base_url(cfg, standin_url, NULL), VF_STATUS_OK);
    return cfg;
}

vf_client *client_from(vf_config *cfg)
{
    vf_client *client = NULL;
    vf_error *err = NULL;

    CHECK_STATUS(vf_client_new(cfg, &client, &err), VF_STATUS_OK);
    if (err != NULL)
        fprintf(stderr, "    vf_client_new: %s\n", vf_error_message(err));
    vf_error_free(err);
    vf_config_free(cfg);
    return client;
}

vf_client *standin_client(void)
{
    return client_from(standin_config());
}

vf_client *single_attempt_client(void)
{
    vf_config *cfg = standin_config();

    CHECK_STATUS(vf_config_set_max_attempts(cfg, 1, NULL), VF_STATUS_OK);
    return client_from(cfg);
}

long mint_count(void)
{
    static const char needle[] = "\"path\":\"/v1/oauth/token\"";
    char *log = standin_request("GET", "/_standin/requests", NULL);
    const char *at = log;
    long count = 0;

    if (log == NULL)
        return -1;
    while ((at = strstr(at, needle)) != NULL) {
        count++;
        at += strlen(needle);
    }
    free(log);
    return count;
}
