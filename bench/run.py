"""make bench: libvoucherify against what users would otherwise write (issue 6).

Starts the release stand-in on 127.0.0.1, checks it is not the bottleneck,
then measures sequential revokes of an unknown token (404, empty body) over
one kept-alive connection for every row, interleaved over ROUNDS rounds, plus
threads, bulk revoke, hostname vs IP, client creation, library load, heap,
instructions (callgrind) and syscalls (strace) per call, and the stripped
size of the library. Writes bench/results/latest.{md,json,png}.

Every loop is bounded by a call count; every process by a timeout.
"""
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, "build", "bench")
LIB = os.path.join(ROOT, "target", "release", "libvoucherify.so")
UREQ = os.path.join(ROOT, "target", "bench-ureq", "release", "ureq-bare")
PY = os.path.join(ROOT, ".venv", "bin", "python")
PYDRV = os.path.join(ROOT, "bench", "py_driver.py")
RESULTS = os.path.join(ROOT, "bench", "results")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
TIMEOUT = 120  # seconds, for any one measured process

# name -> (argv builder taking the base URL and a call count, calls per timed run,
#          (calls for the two callgrind/strace runs))
ROWS = {
    "C API (vf_revoke_token)": (lambda u, n: [f"{BIN}/c_driver", "revoke", u, str(n)], 5000, (1000, 2000)),
    "Python binding": (lambda u, n, w=None: [PY, PYDRV, "binding", u, str(n)] + ([str(w)] if w is not None else []), 3000, (500, 1000)),
    "libcurl (C, reused handle)": (lambda u, n: [f"{BIN}/curl_driver", u, str(n)], 5000, (1000, 2000)),
    "requests.Session": (lambda u, n, w=None: [PY, PYDRV, "requests", u, str(n)] + ([str(w)] if w is not None else []), 1000, (100, 200)),
    "urllib3.PoolManager": (lambda u, n, w=None: [PY, PYDRV, "urllib3", u, str(n)] + ([str(w)] if w is not None else []), 2000, (100, 200)),
    "bare ureq 3 (Rust)": (lambda u, n: [UREQ, u, str(n)], 10000, (1000, 2000)),
    "raw socket floor (C)": (lambda u, n: [f"{BIN}/floor", u, str(n)], 20000, (1000, 2000)),
}
C_API, UREQ_ROW, FLOOR = "C API (vf_revoke_token)", "bare ureq 3 (Rust)", "raw socket floor (C)"
# Measured per call only (make bench-check): the revoke that worked, answered 204.
C_API_204 = "C API, revoked (204)"
# The same with a log callback at WARN: on calls that succeed at once no
# record is formatted (the driver fails if one arrives), so the cost is a
# branch per event.
C_API_204_LOGGED = "C API, revoked (204), log callback at WARN"
PER_CALL_ONLY = {
    C_API_204: (lambda u, n: [f"{BIN}/c_driver", "revoke-ok", u, str(n)], None, (1000, 2000)),
    C_API_204_LOGGED: (lambda u, n: [f"{BIN}/c_driver", "revoke-ok-logged", u, str(n)], None, (1000, 2000)),
}
PY_ROWS = {"Python binding", "requests.Session", "urllib3.PoolManager"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class StandIn:
    """A stand-in process; with tls=True it serves https with a fresh CA,
    whose PEM file is `ca_file` (the drivers trust it through BENCH_CA_FILE)."""

    def __init__(self, binary, *options, tls=False):
        self.tmp = tempfile.TemporaryDirectory() if tls else None
        self.ca_file = os.path.join(self.tmp.name, "ca.pem") if tls else None
        tls_options = ["--tls", "--ca-out", self.ca_file] if tls else []
        self.proc = subprocess.Popen(
            [binary, "--exit-on-stdin-eof", *tls_options, *options],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        scheme = "https" if tls else "http"
        if not line.startswith(f"VF_STANDIN_URL={scheme}://127.0.0.1:"):
            raise SystemExit(f"bench: the stand-in said {line!r}")
        self.url = line.split("=", 1)[1]
        self.port = self.url.rsplit(":", 1)[1]

    def _control(self, method, path):
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=5, context=context) as r:
            return json.load(r)

    def stats(self):
        return self._control("GET", "/_standin/stats")

    def mint(self):
        return self._control("POST", "/_standin/mint?scope=api")["access_token"]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        if self.tmp:
            self.tmp.cleanup()


def env(ca_file=None):
    e = dict(os.environ, LIBVOUCHERIFY_PATH=LIB)
    e["LD_LIBRARY_PATH"] = os.path.dirname(LIB)
    e.pop("BENCH_CA_FILE", None)
    if ca_file:
        e["BENCH_CA_FILE"] = ca_file
    return e


def run_json(argv, timeout=TIMEOUT, ca_file=None, stdin=None):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env(ca_file), input=stdin)
    if out.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_checked(standin, argv, connections=1):
    """Runs a driver and checks it used `connections` connections."""
    before = standin.stats()
    result = run_json(argv, ca_file=standin.ca_file)
    after = standin.stats()
    # The second stats call is itself one new connection (not an API request).
    result["connections"] = after["connections"] - before["connections"] - 1
    result["requests"] = after["requests"] - before["requests"]
    result["tls_resumed"] = after["tls_resumed"] - before["tls_resumed"]
    if result["connections"] != connections:
        raise SystemExit(f"bench: {' '.join(argv)} used {result['connections']} connections, not {connections}")
    return result


def capacity(standin):
    """Two floor clients at once against one: is the server the bottleneck?"""
    one = run_json(ROWS[FLOOR][0](standin.url, 20000))["cps"]
    procs = [
        subprocess.Popen(ROWS[FLOOR][0](standin.url, 20000), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    two = sum(json.loads(p.communicate(timeout=TIMEOUT)[0])["cps"] for p in procs)
    return {"one_client_cps": one, "two_clients_cps": two, "ratio": two / one}


def callgrind_instr(argv, ca_file=None):
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.out"] + argv,
            capture_output=True, text=True, timeout=600, env=env(ca_file),
        )
    # valgrind exits with the program's status: a driver that gave up early
    # would otherwise count as a very cheap one.
    if out.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} under callgrind exited {out.returncode}:\n{out.stderr[-2000:]}")
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise SystemExit(f"bench: callgrind gave no count for {argv}:\n{out.stderr[-2000:]}")


def strace_calls(argv, ca_file=None):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["strace", "-c", "-f", "-o", f"{d}/st.txt"] + argv, capture_output=True,
                       timeout=600, env=env(ca_file), check=True)
        lines = open(f"{d}/st.txt").read().splitlines()
    total = [l for l in lines if l.rstrip().endswith(" total")][-1].split()
    return int(total[3])  # % time, seconds, usecs/call, calls, [errors], total


def per_call(measure, name, standin, url=None):
    """(count at 2n - count at n) / n: start-up and warm-up cancel out.

    The stand-in's counter must show that the second run made exactly
    n more requests than the first, or the figure is not per call."""
    build, _, (n1, n2) = ROWS.get(name) or PER_CALL_ONLY[name]
    extra = [20] if name in PY_ROWS else []  # a short warm-up: Python is slow under valgrind
    counts, requests = [], []
    for n in (n1, n2):
        before = standin.stats()["requests"]
        counts.append(measure(build(url or standin.url, n, *extra), ca_file=standin.ca_file))
        requests.append(standin.stats()["requests"] - before)
    if requests[1] - requests[0] != n2 - n1 or requests[0] < n1:
        raise SystemExit(f"bench: {name}: runs of {n1} and {n2} calls made {requests[0]} and "
                         f"{requests[1]} requests")
    return (counts[1] - counts[0]) / (n2 - n1)


def log_callback_cost(standin):
    """Instructions per revoke answered 204, without and with a log
    callback at WARN (make bench-check gates the difference too)."""
    none = per_call(callgrind_instr, C_API_204, standin)
    warn = per_call(callgrind_instr, C_API_204_LOGGED, standin)
    return {"no_callback_instr": none, "warn_callback_instr": warn, "change": warn / none - 1}


def median_rows(runs):
    return {
        "cps": statistics.median(r["cps"] for r in runs),
        "p50_us": statistics.median(r["p50_us"] for r in runs),
        "p99_us": statistics.median(r["p99_us"] for r in runs),
        "runs_cps": [round(r["cps"], 1) for r in runs],
    }


def versions():
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except Exception:
            return "?"

    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    py = subprocess.run([PY, "-c", "import requests, urllib3, sys; print(sys.version.split()[0], requests.__version__, urllib3.__version__)"],
                        capture_output=True, text=True).stdout.split()
    ureq_version = "?"
    lock = open(os.path.join(ROOT, "Cargo.lock")).read().split("[[package]]")
    for pkg in lock:
        if '\nname = "ureq"\n' in pkg:
            ureq_version = pkg.split('version = "')[1].split('"')[0]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "rustc": cmd(["rustc", "-V"]),
        "gcc": cmd(["gcc", "--version"]),
        "libcurl": cmd(["curl-config", "--version"]),
        "python": py[0] if py else "?",
        "requests": py[1] if len(py) > 1 else "?",
        "urllib3": py[2] if len(py) > 2 else "?",
        "ureq": ureq_version,
        "valgrind": cmd(["valgrind", "--version"]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_at_start": os.getloadavg(),
    }


def stripped_size():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["strip", "--strip-all", "-o", f"{d}/lib.so", LIB], check=True)
        return os.path.getsize(f"{d}/lib.so")


def standin_binary():
    return os.path.join(ROOT, "target", "release", "vf-standin")


# The rows measured over TLS too, kept alive (a CA and a leaf it signed, as the tests use).
TLS_ROWS = [C_API, "Python binding", "libcurl (C, reused handle)", UREQ_ROW]
CURL = "libcurl (C, reused handle)"
# Cold rows: a new client (for libcurl a new easy handle) per call.
COLD_ROWS = {
    "C API, new client per call": (lambda u, n: [f"{BIN}/c_driver", "cold", u, str(n)], 300),
    "libcurl, new easy handle per call": (lambda u, n: [f"{BIN}/curl_driver", u, str(n), "cold"], 300),
}
COLD_WARMUP = 20  # the drivers' BENCH_WARMUP / 10: new connections too


def tls_rows(binary):
    """Kept-alive rows against an https stand-in, and instructions per call over TLS.
    Returns the rows and the running stand-in (the cold rows use it too)."""
    tls = StandIn(binary, tls=True)
    log(f"bench: {len(TLS_ROWS)} rows over TLS x {ROUNDS} interleaved rounds")
    runs = {name: [] for name in TLS_ROWS}
    for _ in range(ROUNDS):
        for name in TLS_ROWS:
            build, n, _ = ROWS[name]
            runs[name].append(run_checked(tls, build(tls.url, n // 2)))
    rows = {name: median_rows(v) for name, v in runs.items()}
    for name in TLS_ROWS:
        rows[name]["instr_per_call"] = per_call(callgrind_instr, name, tls)
        log(f"  {name} over TLS: {rows[name]['cps']:.0f} calls/s, {rows[name]['instr_per_call']:.0f} instr/call")
    return {"rows": rows, "standin": tls}


def cold_rows(plain, tls):
    """A new connection per call, plain and TLS; and whether a new client resumes
    the TLS session of an earlier one (the stand-in counts resumed handshakes)."""
    log("bench: cold calls (a new client per call), plain and TLS")
    out = {}
    for name, (build, n) in COLD_ROWS.items():
        for label, server in (("plain", plain), ("TLS", tls)):
            runs = [run_checked(server, build(server.url, n), connections=n + COLD_WARMUP) for _ in range(3)]
            row = median_rows(runs)
            row["tls_resumed_per_call"] = runs[-1]["tls_resumed"] / (n + COLD_WARMUP)
            out[f"{name} ({label})"] = row
            log(f"  {name} ({label}): {row['cps']:.0f} calls/s, resumed {row['tls_resumed_per_call']:.0%}")
    return out


def paced_bulk(binary, calls=10, window=2, count=35, parallelism=4):
    """A bulk revoke against the stand-in's limit of `calls` per `window` s:
    its time against the time the limit allows, and the 429s it met."""
    log(f"bench: paced bulk revoke of {count} tokens against a limit of {calls} per {window} s")
    limited = StandIn(binary, "--rate-limit", f"{calls}/{window}")
    try:
        tokens = [limited.mint() for _ in range(count)]
        result = run_json([f"{BIN}/c_driver", "bulk-stdin", limited.url, str(count), str(parallelism)],
                          stdin="\n".join(tokens) + "\n")
        refused = limited.stats()["refused_by_limit"]
    finally:
        limited.stop()
    start = result["start_unix"]
    # Windows are aligned on Unix time; the last call may go at the start of
    # the window that holds it.
    first_window_end = (start // window + 1) * window
    allowance = first_window_end + window * ((count - 1) // calls - 1) - start
    out = {"tokens": count, "calls": calls, "window_secs": window, "parallelism": parallelism,
           "seconds": result["secs"], "allowance_seconds": allowance, "over_allowance": result["secs"] / allowance - 1,
           "refused_429": refused, "windows": (count - 1) // calls + 1}
    log(f"  {out['seconds']:.2f} s against an allowance of {allowance:.2f} s, {refused} 429s")
    return out


def targets(res):
    """Issue 15's targets as ratios measured in this run: (figure, target, met)."""
    plain, tls, cold = res["rows"], res["tls"]["rows"], res["cold"]
    cold_tls = cold["C API, new client per call (TLS)"]["cps"] / cold["libcurl, new easy handle per call (TLS)"]["cps"]
    figures = [
        ("kept-alive TLS throughput, C API / libcurl", tls[C_API]["cps"] / tls[CURL]["cps"], ">=", 1.2),
        ("cold TLS throughput, C API / libcurl", cold_tls, ">=", 1.5),
        ("instructions per call plain, C API / libcurl", plain[C_API]["instr_per_call"] / plain[CURL]["instr_per_call"], "<=", 0.55),
        ("instructions per call TLS, C API / libcurl", tls[C_API]["instr_per_call"] / tls[CURL]["instr_per_call"], "<=", 0.55),
        ("instructions per call plain, C API / bare ureq", plain[C_API]["instr_per_call"] / plain[UREQ_ROW]["instr_per_call"], "<=", 1.05),
        ("instructions per call TLS, C API / bare ureq", tls[C_API]["instr_per_call"] / tls[UREQ_ROW]["instr_per_call"], "<=", 1.05),
    ]
    return [{"what": w, "ratio": r, "target": f"{op} {t}", "met": r >= t if op == ">=" else r <= t}
            for w, r, op, t in figures]


def main():
    started = time.time()
    standin = StandIn(sys.argv[1] if len(sys.argv) > 1 else standin_binary())
    res = {"machine": versions()}
    try:
        log("bench: stand-in capacity (1 vs 2 floor clients)")
        res["capacity"] = capacity(standin)
        log(f"  {res['capacity']}")

        log(f"bench: {len(ROWS)} rows x {ROUNDS} interleaved rounds")
        runs = {name: [] for name in ROWS}
        for r in range(ROUNDS):
            for name, (build, n, _) in ROWS.items():
                runs[name].append(run_checked(standin, build(standin.url, n)))
            log(f"  round {r + 1}: " + ", ".join(f"{k.split(' ')[0]} {v[-1]['cps']:.0f}" for k, v in runs.items()))
        rows = {name: median_rows(v) for name, v in runs.items()}

        log("bench: instructions (callgrind) and syscalls (strace) per call")
        for name in ROWS:
            rows[name]["instr_per_call"] = per_call(callgrind_instr, name, standin)
            rows[name]["syscalls_per_call"] = per_call(strace_calls, name, standin)
            log(f"  {name}: {rows[name]['instr_per_call']:.0f} instr, {rows[name]['syscalls_per_call']:.2f} syscalls")
        res["log_callback"] = log_callback_cost(standin)
        log(f"  {res['log_callback']}")
        for name, row in rows.items():
            for ref, key in ((C_API, "vs_c_api"), (UREQ_ROW, "vs_ureq"), (FLOOR, "vs_floor")):
                row[key] = row["cps"] / rows[ref]["cps"]
        res["rows"] = rows

        log("bench: threads on one client, and 4 threads on 4 clients")
        shapes = [(1, 1), (2, 1), (4, 1), (8, 1), (4, 4)]
        truns = {s: [] for s in shapes}
        for _ in range(ROUNDS):
            for t, c in shapes:
                truns[(t, c)].append(run_json([f"{BIN}/c_driver", "revoke", standin.url, "8000", str(t), str(c)]))
        res["threads"] = [dict(threads=t, clients=c, **median_rows(truns[(t, c)])) for t, c in shapes]

        log("bench: bulk revoke of 1000 minted tokens")
        res["bulk"] = []
        for par in (1, 4, 16):
            b = [run_json([f"{BIN}/c_driver", "bulk", standin.url, "1000", str(par)]) for _ in range(3)]
            res["bulk"].append({"parallelism": par, "tokens_per_s": statistics.median(x["cps"] for x in b)})

        # On loopback a revoke costs CPU, not waiting, so parallelism can only
        # share two cores. Across a network each call mostly waits: a stand-in
        # that answers after 5 ms shows N tokens taking ~N / parallelism trips.
        log("bench: bulk revoke of 400 tokens against a stand-in with 5 ms latency")
        res["bulk_latency"] = []
        slow = StandIn(sys.argv[1] if len(sys.argv) > 1 else standin_binary(), "--latency-ms", "5")
        try:
            for par in (1, 4, 16):
                b = run_json([f"{BIN}/c_driver", "bulk", slow.url, "400", str(par)])
                secs = 400 / b["cps"]
                res["bulk_latency"].append({"parallelism": par, "seconds": secs})
            for b in res["bulk_latency"]:
                b["speedup"] = res["bulk_latency"][0]["seconds"] / b["seconds"]
        finally:
            slow.stop()

        res["tls"] = tls_rows(sys.argv[1] if len(sys.argv) > 1 else standin_binary())
        res["cold"] = cold_rows(standin, res["tls"]["standin"])
        res["paced_bulk"] = paced_bulk(sys.argv[1] if len(sys.argv) > 1 else standin_binary())
        res["tls"].pop("standin").stop()
        res["targets"] = targets(res)

        log("bench: hostname (localhost) vs 127.0.0.1")
        host_url = f"http://localhost:{standin.port}"
        hruns = {"127.0.0.1": [], "localhost": []}
        for _ in range(ROUNDS):
            for label, url in (("127.0.0.1", standin.url), ("localhost", host_url)):
                hruns[label].append(run_json(ROWS[C_API][0](url, 5000)))
        res["hostname"] = {label: median_rows(v) for label, v in hruns.items()}
        for label, url in (("127.0.0.1", standin.url), ("localhost", host_url)):
            res["hostname"][label]["instr_per_call"] = per_call(callgrind_instr, C_API, standin, url)
            res["hostname"][label]["syscalls_per_call"] = per_call(strace_calls, C_API, standin, url)

        log("bench: client creation, library load, heap")
        res["create"] = run_json([f"{BIN}/c_driver", "create", standin.url, "1000"])
        res["load_us"] = statistics.median(run_json([f"{BIN}/load_lib", LIB])["load_us"] for _ in range(7))
        res["heap"] = run_json([f"{BIN}/c_driver", "heap", standin.url, "100000"])
        res["stripped_size_bytes"] = stripped_size()
        res["standin_final_stats"] = standin.stats()
    finally:
        standin.stop()
    res["bench_seconds"] = round(time.time() - started, 1)
    res["loadavg_at_end"] = os.getloadavg()
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(res, f, indent=2)
    md = markdown(res)
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(md)
    chart(res, os.path.join(RESULTS, "latest.png"))
    print(md)


def markdown(res):
    m = res["machine"]
    out = [
        "# libvoucherify benchmark",
        "",
        f"{m['date']}; {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; {m['rustc']}; ureq {m['ureq']}; "
        f"{m['libcurl']}; Python {m['python']}, requests {m['requests']}, urllib3 {m['urllib3']}; {m['gcc']}.",
        "",
        "Sequential revokes of an unknown token (the stand-in answers 404 with an empty body) over one "
        "kept-alive connection (checked with the stand-in's counters), release builds, same server, "
        f"same run. calls/s is the median of {ROUNDS} interleaved runs; p50/p99 are medians of the runs' "
        "percentiles; instructions (callgrind) and syscalls (strace -c -f) per call are the difference "
        "between a 2n- and an n-call run, divided by n (client process only).",
        "",
        "| client | calls/s | p50 µs | p99 µs | instr/call | syscalls/call | × C API | × bare ureq | × floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in res["rows"].items():
        out.append(
            f"| {name} | {r['cps']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {r['instr_per_call']:.0f} | "
            f"{r['syscalls_per_call']:.1f} | {r['vs_c_api']:.2f} | {r['vs_ureq']:.2f} | {r['vs_floor']:.2f} |"
        )
    c = res["capacity"]
    out += [
        "",
        f"Stand-in capacity: one floor client {c['one_client_cps']:.0f} calls/s, two at once "
        f"{c['two_clients_cps']:.0f} calls/s together ({c['ratio']:.2f}x; 2x means the server is not the bottleneck)."
        + (" **The stand-in (one thread, on a machine with few cores) saturates near the floor's rate: the floor "
           "row is bounded by the server, so ratios to the floor flatter the other rows.**" if c["ratio"] < 1.8 else ""),
        "",
        "## C API: threads (8000 calls in all, median calls/s)",
        "",
        "| threads | clients | calls/s | p50 µs | p99 µs |",
        "|---:|---:|---:|---:|---:|",
    ]
    for t in res["threads"]:
        out.append(f"| {t['threads']} | {t['clients']} | {t['cps']:.0f} | {t['p50_us']:.1f} | {t['p99_us']:.1f} |")
    out += ["", "## Bulk revoke of 1000 minted tokens (vf_revoke_tokens)", "", "| parallelism | tokens/s |", "|---:|---:|"]
    for b in res["bulk"]:
        out.append(f"| {b['parallelism']} | {b['tokens_per_s']:.0f} |")
    out += ["", "## Bulk revoke of 400 tokens, stand-in answering after 5 ms (vf_revoke_tokens)", "",
            "| parallelism | seconds | speed-up over parallelism 1 |", "|---:|---:|---:|"]
    for b in res["bulk_latency"]:
        out.append(f"| {b['parallelism']} | {b['seconds']:.2f} | {b['speedup']:.1f}x |")
    t = res["tls"]["rows"]
    out += ["", "## Over TLS, kept alive (https stand-in, its own CA)", "",
            "| client | calls/s | p50 µs | p99 µs | instr/call |", "|---|---:|---:|---:|---:|"]
    for name, r in t.items():
        out.append(f"| {name} | {r['cps']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {r['instr_per_call']:.0f} |")
    out += ["", "## Cold: a new client per call (one TCP connect, and over TLS one handshake, per call)", "",
            "| client | calls/s | p50 µs | p99 µs | TLS sessions resumed |", "|---|---:|---:|---:|---:|"]
    for name, r in res["cold"].items():
        resumed = f"{r['tls_resumed_per_call']:.0%}" if "(TLS)" in name else "-"
        out.append(f"| {name} | {r['cps']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {resumed} |")
    pb = res["paced_bulk"]
    out += ["", f"## Paced bulk revoke: {pb['tokens']} tokens, parallelism {pb['parallelism']}, against a limit of "
            f"{pb['calls']} calls per {pb['window_secs']} s", "",
            f"{pb['seconds']:.2f} s against the {pb['allowance_seconds']:.2f} s the limit allows "
            f"({pb['over_allowance']:+.1%}); {pb['refused_429']} 429s in {pb['windows']} windows.",
            "", "## Targets (issue 15), ratios from this run", "", "| figure | ratio | target | met |", "|---|---:|---:|---|"]
    for g in res["targets"]:
        out.append(f"| {g['what']} | {g['ratio']:.2f} | {g['target']} | {'yes' if g['met'] else '**no**'} |")
    lc = res["log_callback"]
    out += ["", "## A log callback at WARN (C API, revoke answered 204)", "",
            "| log callback | instr/call |", "|---|---:|",
            f"| none | {lc['no_callback_instr']:.0f} |",
            f"| at VF_LOG_LEVEL_WARN (no record on success: none formatted) | {lc['warn_callback_instr']:.0f} "
            f"({lc['change']:+.2%}) |"]
    out += ["", "## Base URL: hostname vs IP literal (C API)", "",
            "| base URL host | calls/s | p50 µs | instr/call | syscalls/call |", "|---|---:|---:|---:|---:|"]
    for label, h in res["hostname"].items():
        out.append(f"| {label} | {h['cps']:.0f} | {h['p50_us']:.1f} | {h['instr_per_call']:.0f} | {h['syscalls_per_call']:.1f} |")
    cr, hp = res["create"], res["heap"]
    out += [
        "",
        "## Costs",
        "",
        f"- Library load (dlopen RTLD_NOW + one call, fresh process, median of 7): {res['load_us']:.0f} µs",
        f"- First client (config + vf_client_new + free, loads the trust store): {cr['first_us']:.0f} µs; "
        f"further clients: p50 {cr['p50_us']:.1f} µs, p99 {cr['p99_us']:.1f} µs",
        f"- Heap (glibc mallinfo2, in use): first idle client {hp['first_client_bytes']} B, each further client "
        f"{hp['further_client_bytes']} B; after 1 call {hp['after_1_call']} B, after {hp['calls'] // 10} calls "
        f"{hp['after_tenth']} B, after {hp['calls']} calls {hp['after_all']} B (growth over the last 90%: {hp['growth_bytes']} B)",
        f"- Stripped libvoucherify.so: {res['stripped_size_bytes']} bytes ({res['stripped_size_bytes'] / 2**20:.2f} MiB)",
        f"- make bench's measuring took {res['bench_seconds']:.0f} s; load average (1/5/15 min) "
        f"{fmt_load(m['loadavg_at_start'])} at the start, {fmt_load(res['loadavg_at_end'])} at the end "
        "(other work on this 2-core machine shows up as noise, mostly in p99)",
        "",
    ]
    return "\n".join(out)


def fmt_load(load):
    return "/".join(f"{x:.1f}" for x in load)


def chart(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(res["rows"])
    cps = [res["rows"][n]["cps"] for n in names]
    p50 = [res["rows"][n]["p50_us"] for n in names]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = ["tab:red" if n == C_API else "tab:blue" for n in names]
    a.barh(names, cps, color=colors)
    a.set_xlabel("calls/s (median, higher is better)")
    a.invert_yaxis()
    b.barh(names, p50, color=colors)
    b.set_xlabel("p50 latency, µs (lower is better)")
    b.invert_yaxis()
    b.set_yticklabels([])
    for ax, vals in ((a, cps), (b, p50)):
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.0f}", va="center", fontsize=8)
    fig.suptitle("libvoucherify: sequential revokes over one kept-alive connection (local stand-in)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
