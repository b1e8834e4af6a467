#!/usr/bin/env python3
"""Revokes one Voucherify OAuth 2.0 access token.

Usage: python sample.py ACCESS_TOKEN

Credentials come from the environment: VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY,
and VOUCHERIFY_API_URL or VOUCHERIFY_CLUSTER (default: the "api" cluster).
Exit status: 0 revoked, 3 not found or already revoked, 1 other error, 2 usage.

The code a script would write is libvoucherify's own command line, in
libvoucherify/__main__.py (`python -m libvoucherify revoke TOKEN` once the
package is installed); this file runs it from a checkout.
"""

import sys
from pathlib import Path

# Run from a checkout without installing: the package sits next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from libvoucherify.__main__ import main  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(["revoke", sys.argv[1]]))
