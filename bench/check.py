"""make bench-check: instructions per C API revoke (callgrind, 2000-call run
minus 1000-call run) against bench/baseline.json, for both answers a revoke
gets: 404 (unknown token) and 204 (revoked), and for the 404 over TLS (an
https stand-in with its own CA). Fails on a regression of more
than the baseline's tolerance (10%), and on a run that is not what it claims
(a driver that failed, or made fewer calls than asked: see run.per_call).
Also a revoke answered 204 with a log callback at WARN against the same
revoke without one, measured in this run: a callback that wants no record
of a call that succeeds must cost next to nothing (LOG_CALLBACK_LIMIT).
BENCH_BLESS=1 rewrites the baseline.

    python3 bench/check.py STANDIN_BINARY
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from run import C_API, C_API_204, C_API_204_LOGGED, StandIn, callgrind_instr, per_call  # noqa: E402

BASELINE = os.path.join(os.path.dirname(__file__), "baseline.json")
# baseline.json key -> the row measured, what its answer is, and whether over TLS.
GATED = {
    "c_api_instr_per_call": (C_API, "404", False),
    "c_api_204_instr_per_call": (C_API_204, "204", False),
    "c_api_tls_instr_per_call": (C_API, "404 over TLS", True),
}
# How much more a revoke may cost with a log callback at WARN than without.
LOG_CALLBACK_LIMIT = 0.01


def main():
    started = time.time()
    standins = {False: StandIn(sys.argv[1]), True: StandIn(sys.argv[1], tls=True)}
    try:
        instr = {key: per_call(callgrind_instr, row, standins[tls]) for key, (row, _, tls) in GATED.items()}
        logged = per_call(callgrind_instr, C_API_204_LOGGED, standins[False])
    finally:
        for standin in standins.values():
            standin.stop()
    if os.environ.get("BENCH_BLESS"):
        with open(BASELINE, "w") as f:
            json.dump({**{key: round(v) for key, v in instr.items()}, "tolerance": 0.10,
                       "how": "make bench-baseline (release library, debug stand-in, callgrind)"}, f, indent=2)
            f.write("\n")
        print("bench-check: baseline written: " + ", ".join(f"{v:.0f} ({GATED[k][1]})" for k, v in instr.items()))
        return 0
    with open(BASELINE) as f:
        base = json.load(f)
    tol = base["tolerance"]
    failed = False
    for key, (_, answer, _) in GATED.items():
        ref = base[key]
        change = instr[key] / ref - 1
        failed |= change > tol
        verdict = "FAIL" if change > tol else "ok"
        print(f"bench-check: {verdict}: {instr[key]:.0f} instructions per vf_revoke_token call answered {answer}, "
              f"baseline {ref} ({change:+.1%}, limit +{tol:.0%})")
        if change < -tol:
            print(f"bench-check: {answer}: much better than the baseline: consider `make bench-baseline`")
    unlogged = instr["c_api_204_instr_per_call"]
    change = logged / unlogged - 1
    failed |= change > LOG_CALLBACK_LIMIT
    verdict = "FAIL" if change > LOG_CALLBACK_LIMIT else "ok"
    print(f"bench-check: {verdict}: {logged:.0f} instructions per call answered 204 with a log callback at WARN, "
          f"{unlogged:.0f} without ({change:+.2%}, limit +{LOG_CALLBACK_LIMIT:.0%})")
    print(f"bench-check: {time.time() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
