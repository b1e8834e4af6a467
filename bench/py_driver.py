"""Python drivers: python py_driver.py binding|requests|urllib3 URL N

N sequential revokes of an unknown token over one kept-alive connection,
the same request the library sends; prints the JSON line the C drivers print.
With BENCH_CA_FILE set, the binding also trusts that CA (an https stand-in).
The binding raises TokenNotFoundError for the 404, as a user would see it.
"""
import json
import os
import sys
import time

TOKEN = "bench-unknown-token"
HEADERS = {
    "user-agent": "libvoucherify/0.1.0",
    "accept": "application/json",
    "x-app-id": "standin-app-id",
    "x-app-token": "standin-secret-key",
    "content-type": "application/x-www-form-urlencoded",
}
BODY = f"access_token={TOKEN}"
WARMUP = 200  # an optional 4th argument overrides it (callgrind runs)


def binding_call(base):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings", "python"))
    import libvoucherify

    client = libvoucherify.Client(
        "standin-app-id", "standin-secret-key", base_url=base, allow_insecure_http=True,
        ca_file=os.environ.get("BENCH_CA_FILE"),
    )

    def once():
        try:
            client.revoke(TOKEN)
        except libvoucherify.TokenNotFoundError:
            return
        raise SystemExit("py_driver: the revoke did not answer 404")

    return once


def requests_call(base):
    import requests

    session = requests.Session()
    url = base + "/v1/oauth/token/revoke"

    def once():
        if session.post(url, data=BODY, headers=HEADERS).status_code != 404:
            raise SystemExit("py_driver: not 404")

    return once


def urllib3_call(base):
    import urllib3

    pool = urllib3.PoolManager()
    url = base + "/v1/oauth/token/revoke"

    def once():
        if pool.request("POST", url, body=BODY, headers=HEADERS).status != 404:
            raise SystemExit("py_driver: not 404")

    return once


def main():
    kind, base, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warmup = int(sys.argv[4]) if len(sys.argv) > 4 else WARMUP
    once = {"binding": binding_call, "requests": requests_call, "urllib3": urllib3_call}[kind](base)
    for _ in range(warmup):
        once()
    lat = []
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(n):
        t0 = clock()
        once()
        lat.append(clock() - t0)
    secs = (clock() - start) / 1e9
    lat.sort()
    print(json.dumps({"calls": n, "secs": secs, "cps": n / secs,
                      "p50_us": lat[n // 2] / 1e3, "p99_us": lat[n * 99 // 100] / 1e3}))


if __name__ == "__main__":
    main()
