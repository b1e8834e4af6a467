#!/usr/bin/env python3
"""Removes a pip-installed distribution from an installation root, by its RECORD.

Usage: uninstall_record.py ROOT DIST

ROOT is $(DESTDIR)$(PREFIX); every ROOT/lib*/python3*/{site,dist}-packages/
DIST-*.dist-info found there is removed with exactly the files its RECORD
lists (and the bytecode Python may have written for them later), then the
directories that became empty, up to but not including site-packages.
`pip uninstall` cannot do this: it has no --root or --prefix.
Exit status 0 also when nothing was installed (like `rm -f`).
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import List, Set


def uninstall(root: Path, dist: str) -> int:
    removed = 0
    pattern = f"lib*/python3*/*-packages/{dist}-*.dist-info"
    for dist_info in sorted(root.glob(pattern)):
        site = dist_info.parent.resolve()
        record = dist_info / "RECORD"
        if not record.is_file():
            print(f"{dist_info}: no RECORD, left alone", file=sys.stderr)
            return 1
        with record.open(newline="") as f:
            rows: List[str] = [row[0] for row in csv.reader(f) if row]
        dirs: Set[Path] = set()
        for rel in rows:
            path = Path(os.path.normpath(site / rel))
            # Only within the root: a RECORD must not remove anything else.
            if root.resolve() not in path.parents:
                print(f"{path}: outside {root}, left alone", file=sys.stderr)
                continue
            targets = [path]
            if path.suffix == ".py":
                cache = path.parent / "__pycache__"
                targets += list(cache.glob(f"{path.stem}.*.pyc"))
                dirs.add(cache)
            for target in targets:
                if target.is_file() or target.is_symlink():
                    target.unlink()
                    removed += 1
            dirs.add(path.parent)
        dirs.add(dist_info)
        # Deepest first; stop at site-packages, which other packages share.
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            while d != site and site in d.parents:
                try:
                    d.rmdir()
                except OSError:
                    break  # not empty, or already gone
                d = d.parent
        print(f"uninstalled {dist_info.name} from {site} ({removed} files)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(uninstall(Path(sys.argv[1]), sys.argv[2]))
