"""Mints an access token with POST /v1/oauth/token, for the demo.

Usage: mint_token.py BASE_URL   (credentials from VOUCHERIFY_APP_ID and
VOUCHERIFY_SECRET_KEY). Prints the token only.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

base_url = sys.argv[1].rstrip("/")
request = urllib.request.Request(
    base_url + "/v1/oauth/token",
    data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "api"}).encode(),
    headers={
        "X-App-Id": os.environ["VOUCHERIFY_APP_ID"],
        "X-App-Token": os.environ["VOUCHERIFY_SECRET_KEY"],
        "Content-Type": "application/x-www-form-urlencoded",
    },
    method="POST",
)
with urllib.request.urlopen(request, timeout=30) as response:
    print(json.load(response)["access_token"])
