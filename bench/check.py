"""make bench-check: instructions per C API revoke (callgrind, 2000-call run
minus 1000-call run) against bench/baseline.json; fails on a regression of
more than the baseline's tolerance (10%). BENCH_BLESS=1 rewrites the baseline.

    python3 bench/check.py STANDIN_BINARY
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from run import C_API, StandIn, callgrind_instr, per_call  # noqa: E402

BASELINE = os.path.join(os.path.dirname(__file__), "baseline.json")


def main():
    started = time.time()
    standin = StandIn(sys.argv[1])
    try:
        instr = per_call(callgrind_instr, C_API, standin.url)
    finally:
        standin.stop()
    if os.environ.get("BENCH_BLESS"):
        with open(BASELINE, "w") as f:
            json.dump({"c_api_instr_per_call": round(instr), "tolerance": 0.10,
                       "how": "make bench-baseline (release library, debug stand-in, callgrind)"}, f, indent=2)
            f.write("\n")
        print(f"bench-check: baseline written: {instr:.0f} instructions per call")
        return 0
    with open(BASELINE) as f:
        base = json.load(f)
    ref, tol = base["c_api_instr_per_call"], base["tolerance"]
    change = instr / ref - 1
    verdict = "FAIL" if change > tol else "ok"
    print(f"bench-check: {verdict}: {instr:.0f} instructions per vf_revoke_token call, "
          f"baseline {ref} ({change:+.1%}, limit +{tol:.0%}) in {time.time() - started:.0f} s")
    if change < -tol:
        print("bench-check: much better than the baseline: consider `make bench-baseline`")
    return 1 if change > tol else 0


if __name__ == "__main__":
    sys.exit(main())
