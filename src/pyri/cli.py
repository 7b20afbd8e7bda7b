"""The ``pyri`` command. Subcommands import their layers lazily so that ``pyri --help`` stays fast
(no numba, no compilation at import time)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyri import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyri",
        description="A node for the IOTA legacy (trinary, IRI-protocol) network.",
    )
    parser.add_argument("--version", action="version", version=f"pyri {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("selftest", help="hash, sign and verify once to check the crypto kernels")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "selftest":
        from pyri.selftest import run_selftest

        return run_selftest()
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
