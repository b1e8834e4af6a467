#!/usr/bin/env python3
"""Walks a token's life: mint, introspect, token source, revoke, introspect.

Usage: python lifecycle_sample.py [SCOPE ...]   (default scope: api)

Credentials come from the environment: VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY,
and VOUCHERIFY_API_URL or VOUCHERIFY_CLUSTER (default: the "api" cluster).
Tokens are printed shortened, never whole: they are secrets.
Exit status: 0 every step went as expected, 1 otherwise, 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

# Run from a checkout without installing: the package sits next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import libvoucherify  # noqa: E402


def short(token: str) -> str:
    return token[:6] + "..."


def run(scopes: List[str]) -> int:
    with libvoucherify.Client(from_env=True) as client:
        token = client.generate(scopes)
        print(f"1. minted {short(token.access_token)} scope={token.scope!r} expires_in={token.expires_in}s")

        seen = client.introspect(token.access_token)
        print(f"2. introspect: {'active' if seen else 'inactive'}")
        if seen is None:
            print("error: a new token should be active", file=sys.stderr)
            return 1

        # A service would keep one source for its lifetime; closing it revokes its own token.
        with client.token_source(scopes) as source:
            first, again = source.access_token(), source.access_token()
            print(f"3. token source handed out {short(first)} (reused: {'yes' if first == again else 'no'})")

        client.revoke(token.access_token)
        print(f"4. revoked {short(token.access_token)}")

        seen = client.introspect(token.access_token)
        print(f"5. introspect after revoke: {'active' if seen else 'inactive'}")
        if seen is not None:
            print("error: a revoked token should be inactive", file=sys.stderr)
            return 1
    return 0


def main(argv: List[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        return run(argv[1:] or ["api"])
    except libvoucherify.VoucherifyError as e:
        print(e.report(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
