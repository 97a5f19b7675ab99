"""Extract, merge and check salesync's message catalogs (run through scripts/i18n).

The work is done in salesync.catalogs, so the catalog tests run the very same checks.
"""

from __future__ import annotations

import sys

from salesync.catalogs import ROOT, TEMPLATE, problems, update


def main(arguments: list[str]) -> int:
    if arguments == ["--check"]:
        found = problems()
        for problem in found[:50]:
            print(problem, file=sys.stderr)
        if len(found) > 50:
            print(f"… and {len(found) - 50} more", file=sys.stderr)
        return 1 if found else 0
    if arguments:
        print("usage: scripts/i18n [--check]", file=sys.stderr)
        return 2
    print(f"{update()} ids in {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
