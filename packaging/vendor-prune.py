#!/usr/bin/env python3
"""Trims a `cargo vendor` directory for the Debian source package (make deb).

- Windows-only crates (windows*, never built on Linux, but read by cargo to
  resolve Cargo.lock) keep their manifests only: their prebuilt import
  libraries have no source, and their sources are most of the vendor size.
- Every crate's Cargo.toml.orig (the manifest before crates.io normalised
  it; cargo reads Cargo.toml) goes: Debian tools take *.orig files for
  leftovers of failed patches (dh_clean deletes them, lintian warns).

Cargo checks each vendored file listed in the crate's .cargo-checksum.json,
so each removed file leaves that list too.

Usage: vendor-prune.py VENDOR_DIR
"""

import json
import shutil
import sys
from pathlib import Path


def prune(crate: Path) -> None:
    checksums_file = crate / ".cargo-checksum.json"
    checksums = json.loads(checksums_file.read_text())
    if crate.name.startswith("windows"):
        shutil.rmtree(crate / "lib", ignore_errors=True)
        shutil.rmtree(crate / "src")
        (crate / "src").mkdir()
        (crate / "src" / "lib.rs").write_text("// Windows only: cut down by packaging/vendor-prune.py\n")
        checksums["files"] = {}
    (crate / "Cargo.toml.orig").unlink(missing_ok=True)
    checksums["files"].pop("Cargo.toml.orig", None)
    checksums_file.write_text(json.dumps(checksums, sort_keys=True))


def main() -> int:
    crates = sorted(p for p in Path(sys.argv[1]).iterdir() if (p / ".cargo-checksum.json").is_file())
    if not crates:
        print(f"vendor-prune.py: no vendored crate in {sys.argv[1]}", file=sys.stderr)
        return 1
    for crate in crates:
        prune(crate)
    print(f"vendor-prune.py: {len(crates)} crates trimmed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
