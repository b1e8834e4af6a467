/* What a C service writes by hand today: libcurl, one reused easy handle,
 * the same request the library sends.   curl_driver URL N */
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

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    size_t n = strtoul(argv[2], NULL, 10);
    if (n < 1 || n > 10000000) return 2;
    char url[512];
    snprintf(url, sizeof url, "%s/v1/oauth/token/revoke", argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, "Accept: application/json");
    hdr = curl_slist_append(hdr, "X-App-Id: " BENCH_APP_ID);
    hdr = curl_slist_append(hdr, "X-App-Token: " BENCH_SECRET);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "libvoucherify/0.1.0");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "access_token=" BENCH_TOKEN);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    for (int i = 0; i < BENCH_WARMUP; i++) once(h);
    uint64_t *lat = calloc(n, sizeof *lat);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t c0 = now_ns();
        once(h);
        lat[i] = now_ns() - c0;
    }
    report(lat, n, now_ns() - t0);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
