/* What a C service writes by hand today: libcurl, the same request the
 * library sends.
 *   curl_driver URL N        one reused easy handle (a kept-alive connection)
 *   curl_driver URL N cold   a new easy handle per call (a new connection,
 *                            over TLS a new handshake)
 * With BENCH_CA_FILE set, the handle trusts that CA (an https stand-in). */
#include "common.h"
#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *u) {
    (void)p; (void)u;
    return size * n;
}

static void once(CURL *h) {
    long code = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code != 404) {
        fprintf(stderr, "curl_driver: %s, HTTP %ld\n", curl_easy_strerror(rc), code);
        exit(1);
    }
}

static char url[512];
static struct curl_slist *hdr;

static CURL *new_handle(void) {
    CURL *h = curl_easy_init();
    const char *ca_file = getenv("BENCH_CA_FILE");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "libvoucherify/0.1.0");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "access_token=" BENCH_TOKEN);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    return h;
}

/* One call: on the kept-alive handle, or on a handle of its own. */
static void call(CURL *kept) {
    if (kept) {
        once(kept);
        return;
    }
    CURL *h = new_handle();
    once(h);
    curl_easy_cleanup(h);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    size_t n = strtoul(argv[2], NULL, 10);
    if (n < 1 || n > 10000000) return 2;
    int cold = argc > 3 && !strcmp(argv[3], "cold");
    snprintf(url, sizeof url, "%s/v1/oauth/token/revoke", argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    hdr = curl_slist_append(hdr, "X-App-Id: " BENCH_APP_ID);
    hdr = curl_slist_append(hdr, "X-App-Token: " BENCH_SECRET);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-www-form-urlencoded");
    CURL *kept = cold ? NULL : new_handle();
    for (int i = 0; i < (cold ? BENCH_WARMUP / 10 : BENCH_WARMUP); i++) call(kept);
    uint64_t *lat = calloc(n, sizeof *lat);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t c0 = now_ns();
        call(kept);
        lat[i] = now_ns() - c0;
    }
    report(lat, n, now_ns() - t0);
    curl_slist_free_all(hdr);
    if (kept) curl_easy_cleanup(kept);
    curl_global_cleanup();
    return 0;
}
