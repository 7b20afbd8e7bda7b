"""The devnet's subcommands of ``pyri``: ``coordinator``, ``spam``, ``devnet`` (and ``devnet
init``) and ``balances``. ``register`` adds their arguments (argparse only: ``pyri --help`` must
not load numba); ``dispatch`` imports the command's module and runs it."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pyri.devnet.merkle_tree import TreeSpec
    from pyri.devnet.wallet import Account

COMMANDS: Final = frozenset({"coordinator", "spam", "devnet", "balances"})
DEFAULT_NODE: Final = "http://localhost:14265"
MODES: Final = ("CURLP27", "CURLP81", "KERL")


def _tree_arguments(parser: argparse.ArgumentParser, defaults: str) -> None:
    parser.add_argument("--depth", type=int, help=f"Merkle depth: 2^depth milestones ({defaults})")
    parser.add_argument("--security", type=int, choices=(1, 2, 3), help="WOTS security level")
    parser.add_argument("--mode", choices=MODES, type=str.upper, help="signature sponge")
    parser.add_argument(
        "--workers", type=int, default=None, help="threads generating the key tree (all cores)"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    coordinator = sub.add_parser(
        "coordinator",
        help="issue milestones to a node (generates or loads the key tree)",
        description="Generate (or load) a Merkle tree of WOTS keys and issue a signed milestone "
        "every INTERVAL seconds, approving the tips that checkConsistency accepts together. "
        "The directory keeps the seed, the tree and the last milestone, so a restart resumes "
        "at the right index.",
    )
    coordinator.add_argument("--dir", default="coordinator", help="state directory (./coordinator)")
    coordinator.add_argument("--node", default=DEFAULT_NODE, help=f"node API ({DEFAULT_NODE})")
    coordinator.add_argument("--seed", help="coordinator seed (default: DIR/seed, or a new one)")
    _tree_arguments(coordinator, "new trees: 14, security 1, CURLP27")
    coordinator.add_argument("--mwm", type=int, default=9, help="minimum weight magnitude (9)")
    coordinator.add_argument(
        "--interval", type=float, default=5.0, help="seconds between milestones"
    )
    coordinator.add_argument("--max-tips", type=int, default=16, help="tips one milestone approves")
    coordinator.add_argument("--count", type=int, help="stop after this many milestones")
    coordinator.add_argument(
        "--tree-only", action="store_true", help="build the tree, print the address"
    )
    coordinator.add_argument("--api-token", default="", help="Bearer token for the node")

    spam = sub.add_parser(
        "spam",
        help="send signed value transfers, messages, double spends and reattachments",
        description="A workload generator: value transfers between the addresses of the given "
        "seeds (several inputs and outputs, remainders), zero-value messages, and a share of "
        "double spends and reattachments, with proof of work, at RATE bundles per second.",
    )
    spam.add_argument("--node", default=DEFAULT_NODE, help=f"node API ({DEFAULT_NODE})")
    spam.add_argument("--dir", help="a devnet directory: its seeds, MWM and wallet state")
    spam.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="SEED[:SECURITY]",
        help="a seed to spend from and send to (repeatable; security 2 unless given)",
    )
    spam.add_argument("--state", help="wallet state file (with --seed; default: none)")
    spam.add_argument("--scan", type=int, default=10, help="keys per seed looked at first (10)")
    spam.add_argument("--rate", type=float, default=1.0, help="bundles per second (1)")
    spam.add_argument("--messages", type=float, default=0.2, help="share of zero-value messages")
    spam.add_argument("--double-spends", type=float, default=0.1, help="share of double spends")
    spam.add_argument("--reattachments", type=float, default=0.1, help="share of reattachments")
    spam.add_argument("--mwm", type=int, help="minimum weight magnitude (9, or the devnet's)")
    spam.add_argument("--count", type=int, help="stop after this many bundles")
    spam.add_argument("--duration", type=float, help="stop after this many seconds")
    spam.add_argument("--report", help="write what was sent and confirmed to this JSON file")
    spam.add_argument("--random-seed", type=int, help="seed of the random choices")
    spam.add_argument("--api-token", default="", help="Bearer token for the node")

    devnet = sub.add_parser(
        "devnet",
        help="a private tangle in one command: node + coordinator + workload",
        description="Create DIR if needed (coordinator keys, genesis snapshot, node "
        "configuration), then start a node, a coordinator and a gentle workload, and print a "
        "line per milestone. Ctrl-C stops everything; running it again continues the tangle.",
    )
    devnet.add_argument("--dir", default=None, help="devnet directory (./devnet)")
    devnet.add_argument("--port", type=int, default=None, help="node API port (14265)")
    devnet.add_argument("--interval", type=float, help="seconds between milestones (5)")
    devnet.add_argument("--rate", type=float, default=0.5, help="workload bundles per second")
    devnet.add_argument("--no-spam", action="store_true", help="no workload")
    devnet.add_argument("--mwm", type=int, help="proof of work for the coordinator and workload")
    devnet.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    actions = devnet.add_subparsers(dest="devnet_command", metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="only create the devnet directory",
        description="Write DIR/snapshot.txt (the supply on addresses of the public genesis "
        "seed), DIR/pyri.ini (a node bound to the new coordinator) and the coordinator's keys.",
    )
    # SUPPRESS: values given before "init" must survive the subparser's defaults.
    init.add_argument("--dir", default=argparse.SUPPRESS, help="devnet directory (./devnet)")
    init.add_argument("--port", type=int, default=argparse.SUPPRESS, help="PORT in pyri.ini")
    init.add_argument(
        "--interval", type=float, default=argparse.SUPPRESS, help="milestone interval"
    )
    init.add_argument("--mwm", type=int, default=argparse.SUPPRESS, help="network MWM (9)")
    _tree_arguments(init, "14, security 1, CURLP27")
    init.add_argument("--coordinator-seed", help="coordinator seed (default: a random one)")

    balances = sub.add_parser(
        "balances",
        help="print balances of addresses as a table (getBalances)",
        description="Ask a node for the confirmed balances of ADDRESS..., as seen by --tips, or "
        "right after milestone --at (pyri's milestoneIndex extension).",
    )
    balances.add_argument("addresses", nargs="+", metavar="ADDRESS")
    balances.add_argument(
        "--tips", nargs="+", default=[], metavar="HASH", help="tips to see through"
    )
    balances.add_argument(
        "--at", type=int, metavar="MILESTONE", help="balances after this milestone"
    )
    balances.add_argument("--node", default=DEFAULT_NODE, help=f"node API ({DEFAULT_NODE})")
    balances.add_argument("--api-token", default="", help="Bearer token for the node")


def dispatch(args: argparse.Namespace) -> int:
    """Run the devnet command ``args.command``; deliberate errors become a one-line message."""
    from pyri.errors import PyriError

    try:
        if args.command == "coordinator":
            return _coordinator(args)
        if args.command == "spam":
            return _spam(args)
        if args.command == "devnet":
            return _init(args) if args.devnet_command == "init" else _devnet(args)
        return _balances(args)
    except PyriError as error:
        print(f"pyri {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _spec(args: argparse.Namespace, base: TreeSpec | None) -> TreeSpec:
    """The tree asked for: flags, else the stored tree's shape, else the devnet defaults."""
    from pyri.crypto.sponge import SpongeMode
    from pyri.devnet.genesis import DEFAULT_DEPTH, DEFAULT_MODE, DEFAULT_SECURITY
    from pyri.devnet.merkle_tree import TreeSpec

    return TreeSpec(
        args.depth if args.depth is not None else (base.depth if base else DEFAULT_DEPTH),
        args.security
        if args.security is not None
        else (base.security if base else DEFAULT_SECURITY),
        SpongeMode.parse(args.mode) if args.mode else (base.mode if base else DEFAULT_MODE),
    )


def _workers(args: argparse.Namespace) -> int:
    from pyri.devnet.merkle_tree import default_workers

    return args.workers if args.workers else default_workers()


def _coordinator(args: argparse.Namespace) -> int:
    import threading

    from rich.console import Console

    from pyri.devnet.client import NodeClient
    from pyri.devnet.coordinator import Coordinator, CoordinatorSettings, IssuedMilestone
    from pyri.devnet.merkle_tree import stored_spec
    from pyri.devnet.milestones import CoordinatorKeys
    from pyri.devnet.seeds import seed_file

    console = Console(highlight=False, soft_wrap=True)
    directory = Path(args.dir)
    spec = _spec(args, stored_spec(directory / "tree"))
    seed = seed_file(directory / "seed", args.seed)
    keys = CoordinatorKeys.build(directory / "tree", seed, spec, workers=_workers(args))
    console.print(f"coordinator {keys.address} ({spec.describe()})")
    console.print(
        f"node flags: --testnet --testnet-coordinator {keys.address} "
        f"--testnet-coordinator-security-level {spec.security} "
        f"--testnet-coordinator-signature-mode {spec.mode.value} --milestone-keys {spec.depth}",
        style="dim",
    )
    if args.tree_only:
        return 0
    settings = CoordinatorSettings(
        interval=args.interval, mwm=args.mwm, max_approvees=args.max_tips
    )
    client = NodeClient(args.node, token=args.api_token)
    coordinator = Coordinator(
        client, keys, directory, settings, log=lambda m: console.print(m, style="dim")
    )

    def show(milestone: IssuedMilestone) -> None:
        state = (
            f"applied after {milestone.apply_seconds:.2f} s"
            if milestone.applied
            else "[yellow]not applied yet[/]"
        )
        verb = "sent again" if milestone.resent else "issued"
        console.print(
            f"milestone {milestone.index} {verb}: approves {milestone.tips} tips "
            f"({milestone.transactions} transactions), built in {milestone.build_seconds:.2f} s, "
            f"{state}"
        )

    stop = threading.Event()
    try:
        coordinator.run(stop, count=args.count, on_issue=show)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _parse_seed(text: str, position: int) -> Account:
    from pyri.devnet.wallet import Account

    seed, _, security = text.partition(":")
    return Account(f"seed{position}", seed, int(security) if security else 2)


def _spam(args: argparse.Namespace) -> int:
    import json
    import random
    import threading

    from rich.console import Console

    from pyri.devnet.client import NodeClient
    from pyri.devnet.errors import DevnetError
    from pyri.devnet.spam import Spammer, SpamSettings
    from pyri.devnet.wallet import Wallet

    console = Console(highlight=False, soft_wrap=True)
    mwm = args.mwm
    if args.dir:
        from pyri.devnet.genesis import DevnetConfig

        config = DevnetConfig.load(Path(args.dir))
        wallet = config.wallet()
        mwm = mwm if mwm is not None else config.mwm
    elif args.seed:
        accounts = [_parse_seed(text, k) for k, text in enumerate(args.seed)]
        wallet = Wallet(
            accounts,
            Path(args.state) if args.state else None,
            initial_keys={f"seed{k}": args.scan for k in range(len(accounts))},
        )
    else:
        raise DevnetError("give --dir DEVNET or at least one --seed")
    settings = SpamSettings(
        rate=args.rate,
        message_share=args.messages,
        double_spend_share=args.double_spends,
        reattach_share=args.reattachments,
        mwm=mwm if mwm is not None else 9,
    )
    rng = random.Random(args.random_seed)
    client = NodeClient(args.node, token=args.api_token)
    spammer = Spammer(
        client,
        wallet,
        settings,
        rng=rng,
        log=lambda message: console.print(message, style="dim"),
        log_actions=True,
    )
    stop = threading.Event()
    try:
        spammer.run(stop, count=args.count, duration=args.duration)
    except KeyboardInterrupt:
        stop.set()
    finally:
        # Whatever the last milestone confirmed is in the report too.
        with contextlib.suppress(DevnetError):
            spammer.refresh(force=True)
        report = spammer.report()
        console.print(
            f"sent {len(report.transfers)} bundles ({report.count('value')} transfers, "
            f"{report.count('double_spend')} double spends, {report.count('message')} messages); "
            f"{report.count(confirmed=True)} confirmed"
        )
        if args.report:
            Path(args.report).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 0


def _devnet_dir(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "dir", None) or "devnet")


def _init(args: argparse.Namespace) -> int:
    from pyri.devnet.genesis import DEFAULT_INTERVAL, DEFAULT_MWM, DEFAULT_PORT, init_devnet

    directory = _devnet_dir(args)
    spec = _spec(args, None)
    config, created = init_devnet(
        directory,
        tree=spec,
        mwm=getattr(args, "mwm", None) or DEFAULT_MWM,
        interval=getattr(args, "interval", None) or DEFAULT_INTERVAL,
        port=getattr(args, "port", None) or DEFAULT_PORT,
        seed=args.coordinator_seed,
        workers=_workers(args),
    )
    state = "created" if created else "already there (kept as it is)"
    print(f"devnet {directory}: {state}")
    print(f"  coordinator  {config.coordinator_address} ({config.tree.describe()})")
    print(f"  snapshot     {config.snapshot_path}")
    print(f"  node config  {config.ini_path}  ->  pyri run -c {config.ini_path}")
    print(f"  funded       {config.reserve_address} (genesis key 0)")
    return 0


def _devnet(args: argparse.Namespace) -> int:
    from rich.console import Console

    from pyri.devnet.genesis import DEFAULT_PORT
    from pyri.devnet.runner import RunOptions, run_devnet

    console = Console(highlight=False, soft_wrap=True)
    options = RunOptions(
        port=args.port or DEFAULT_PORT,
        interval=args.interval,
        rate=args.rate,
        spam=not args.no_spam,
        mwm=args.mwm,
        workers=_workers(args),
    )
    return run_devnet(
        _devnet_dir(args),
        options,
        echo=lambda line: console.print(line, markup=False, soft_wrap=True),
    )


def _balances(args: argparse.Namespace) -> int:
    from rich.console import Console

    from pyri.devnet.balances import fetch, render
    from pyri.devnet.client import NodeClient

    client = NodeClient(args.node, token=args.api_token)
    result = fetch(client, args.addresses, tips=args.tips, at=args.at)
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        # Piped output has no width; rich would assume 80 columns and fold every address.
        console = Console(highlight=False, width=140)
    render(args.addresses, result, console)
    return 0
