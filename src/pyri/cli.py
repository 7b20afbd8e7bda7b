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
    from pyri.node.config import add_run_arguments

    runner = sub.add_parser(
        "run",
        help="start the node: Tangle, ledger and the IRI HTTP API",
        description="Start the node with IRI's flag names (and an optional ini file, -c).",
    )
    add_run_arguments(runner)
    importer = sub.add_parser(
        "import",
        help="load transactions (raw trytes or .dmp archive lines) into the database",
        description="Load transaction files into the Tangle: one 2673-tryte transaction per "
        "line, or the history archive's .dmp lines (hash,trytes[,flag][,index]). Interrupted "
        "imports can be run again; what is stored already is skipped.",
    )
    importer.add_argument("files", nargs="+", metavar="FILE")
    importer.add_argument("--db-path", default="mainnetdb", help="database directory")
    importer.add_argument(
        "--mwm", type=int, default=None, help="minimum weight magnitude (14; 9 with --testnet)"
    )
    importer.add_argument("--testnet", action="store_true", help="testnet rules (MWM 9)")
    importer.add_argument(
        "--snapshot-timestamp",
        type=int,
        default=0,
        help="lower bound of the timestamp rule, seconds (default 0: accept archived data)",
    )
    importer.add_argument("--batch", type=int, default=1000, help="transactions per write")
    importer.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pyri.errors import PyriError
    from pyri.node.config import load_config

    try:
        config = load_config(args)
    except PyriError as error:
        print(f"pyri run: {error}", file=sys.stderr)
        return 2
    from pyri.node.service import run

    try:
        return run(config)
    except PyriError as error:
        print(f"pyri run: {error}", file=sys.stderr)
        return 1


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pyri.consensus.tangle import Tangle, TangleConfig
    from pyri.importer import import_files, print_summary
    from pyri.storage import open_engine

    paths = [Path(name) for name in args.files]
    for path in paths:
        if not path.is_file():
            print(f"pyri import: no such file: {path}", file=sys.stderr)
            return 2
    if args.batch < 1:
        print("pyri import: --batch must be at least 1", file=sys.stderr)
        return 2
    mwm = args.mwm if args.mwm is not None else (9 if args.testnet else 14)
    engine = open_engine(args.db_path)
    try:
        tangle = Tangle(engine, TangleConfig(mwm=mwm, snapshot_timestamp_s=args.snapshot_timestamp))
        summary = import_files(tangle, paths, args.batch, progress=not args.no_progress)
    finally:
        engine.close()
    print_summary(summary)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "selftest":
        from pyri.selftest import run_selftest

        return run_selftest()
    if args.command == "import":
        return _import(args)
    if args.command == "run":
        return _run(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
