#!/usr/bin/env python3
"""Revokes one Voucherify OAuth 2.0 access token.

Usage: python sample.py ACCESS_TOKEN

Credentials come from the environment: VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY,
and VOUCHERIFY_API_URL or VOUCHERIFY_CLUSTER (default: the "api" cluster).
Exit status: 0 revoked, 3 not found or already revoked, 1 other error, 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

# Run from a checkout without installing: the package sits next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import libvoucherify  # noqa: E402


def main(argv: List[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    token = argv[1]
    try:
        with libvoucherify.Client(from_env=True) as client:
            client.revoke(token)
    except libvoucherify.TokenNotFoundError:
        print("not found or already revoked")
        return 3
    except libvoucherify.VoucherifyError as e:
        print(e.report(), file=sys.stderr)
        return 1
    print("revoked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
