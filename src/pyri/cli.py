"""The ``pyri`` command. Subcommands import their layers lazily so that ``pyri --help`` stays fast
(no numba, no compilation at import time)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyri import __version__
from pyri.devnet import cli as devnet_cli


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
    snapshot = sub.add_parser("snapshot", help="export the confirmed ledger as snapshot files")
    snapshot_sub = snapshot.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)
    export = snapshot_sub.add_parser(
        "export",
        help="write the ledger at the latest solid milestone",
        description="Write the ledger at the latest solid milestone as a global snapshot file "
        "(ADDRESS;BALANCE lines, as IRI's --snapshot reads) or as IRI 1.8.1-1.8.5 local snapshot "
        "files (BASE.snapshot.meta and BASE.snapshot.state). Safe while the node runs.",
    )
    export.add_argument("output", metavar="FILE_OR_BASE")
    export.add_argument("--db-path", default="mainnetdb", help="database directory")
    export.add_argument(
        "--format", choices=("global", "local"), default="global", help="file format (global)"
    )
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
    importer.add_argument(
        "--batch",
        type=int,
        default=None,
        help="transactions per atomic write (default 5000)",
    )
    importer.add_argument("--no-progress", action="store_true", help="no progress bar")
    devnet_cli.register(sub)
    return parser


def _snapshot_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pyri.consensus.ledger import current_state
    from pyri.consensus.snapshot_files import write_global_snapshot, write_local_snapshot
    from pyri.errors import PyriError
    from pyri.storage import open_engine

    if not Path(args.db_path).is_dir():
        print(f"pyri snapshot export: no database at {args.db_path}", file=sys.stderr)
        return 2
    try:
        engine = open_engine(args.db_path, readonly=True)
        try:
            with engine.read() as view:
                state = current_state(view)
        finally:
            engine.close()
        if args.format == "global":
            write_global_snapshot(state, args.output)
        else:
            write_local_snapshot(state, args.output)
    except PyriError as error:
        print(f"pyri snapshot export: {error}", file=sys.stderr)
        return 1
    print(
        f"exported milestone {state.index} ({state.hash}): {len(state.balances)} addresses, "
        f"total {state.total}"
    )
    return 0


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

    from pyri import collector
    from pyri.consensus.tangle import Tangle, TangleConfig
    from pyri.importer import DEFAULT_BATCH, import_files, print_summary
    from pyri.storage import open_engine

    paths = [Path(name) for name in args.files]
    for path in paths:
        if not path.is_file():
            print(f"pyri import: no such file: {path}", file=sys.stderr)
            return 2
    batch = DEFAULT_BATCH if args.batch is None else args.batch
    if batch < 1:
        print("pyri import: --batch must be at least 1", file=sys.stderr)
        return 2
    mwm = args.mwm if args.mwm is not None else (9 if args.testnet else 14)
    collector.tune_for_bulk_writes()
    engine = open_engine(args.db_path)
    try:
        tangle = Tangle(engine, TangleConfig(mwm=mwm, snapshot_timestamp_s=args.snapshot_timestamp))
        summary = import_files(tangle, paths, batch, progress=not args.no_progress)
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
    if args.command in devnet_cli.COMMANDS:
        return devnet_cli.dispatch(args)
    if args.command == "run":
        return _run(args)
    if args.command == "snapshot":
        return _snapshot_export(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
