"""Command line: ``python -m libvoucherify revoke TOKEN`` and ``python -m libvoucherify version``.

``revoke`` takes its credentials from the environment, like the library's
``from_env``: VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, and VOUCHERIFY_API_URL
or VOUCHERIFY_CLUSTER (default: the "api" cluster).
Exit status: 0 revoked, 3 not found or already revoked, 1 other error, 2 usage.

``version`` prints the binding's version, the library's and the library file.
"""

from __future__ import annotations

import sys
from typing import List, Optional

USAGE = "usage: python -m libvoucherify revoke ACCESS_TOKEN | version"


def _revoke(token: str) -> int:
    import libvoucherify

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


def _version() -> int:
    import libvoucherify

    print(f"libvoucherify (Python binding) {libvoucherify.__version__}")
    print(f"library {libvoucherify.version()} from {libvoucherify.library_path()}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["revoke"] and len(args) == 2 and args[1] not in ("-h", "--help"):
        return _revoke(args[1])
    if args == ["version"] or args == ["--version"]:
        return _version()
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__.strip())
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
