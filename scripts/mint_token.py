"""Mints an access token with libvoucherify, for the demo; prints it.

Credentials and base URL come from the environment, as for the samples
(VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, VOUCHERIFY_API_URL/_CLUSTER).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings" / "python"))

import libvoucherify  # noqa: E402

with libvoucherify.Client(from_env=True) as client:
    print(client.generate("api").access_token)
