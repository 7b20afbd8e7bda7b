"""``pyri selftest``: compile (or load from cache) every crypto kernel and check each against a
known answer, printing what each took. Useful after an install and to warm the numba cache."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

# Known answers from IRI's own tests (iri-consensus-reference §2.2, §4.3, §4.4).
_ISS_SEED = "N" * 81
_ISS_ADDRESS = "MDWYEJJHJDIUVPKDY9EACGDJUOP9TLYDWETUBOYCBLYXYYYJYUXYUTCTPTDGJYFKMQMCNZDQPTBE9AFIW"
_KERL_IN = "EMIDYNHBWMBCXVDEFOFWINXTERALUKYYPPHKP9JJFGJEIUY9MUDVNFZHMMWZUYUSWAIOWEVTHNWMHANBH"
_KERL_OUT = "EJEAOOZYSAWFPZQESYDHZCGYNSTWXUMVJOVDWUNZJXDGWCLUFGIMZRMGCAZGKNPLBRLGUNYWKLJTYEAQX"


def _checks() -> list[tuple[str, Callable[[], bool]]]:
    import numpy as np

    from pyri.crypto import curl, kerl, pow, wots
    from pyri.trinary import trits_to_trytes, trytes_to_trits

    def curl_batch_matches_single() -> bool:
        rows = np.random.default_rng(7).integers(-1, 2, (3, 8019)).astype(np.int8)
        batch = curl.curl_hash_batch(rows)
        return all(np.array_equal(batch[i], curl.curl_hash(rows[i])) for i in range(3))

    def kerl_known_answer() -> bool:
        return trits_to_trytes(kerl.kerl_hash(trytes_to_trits(_KERL_IN))) == _KERL_OUT

    def iss_address() -> bool:
        return trits_to_trytes(wots.address(trytes_to_trits(_ISS_SEED), 0, 2)) == _ISS_ADDRESS

    def proof_of_work() -> bool:
        tx = np.zeros(8019, dtype=np.int8)
        return pow.weight_magnitude(curl.curl_hash(pow.attach(tx, 9))) >= 9

    return [
        ("Curl-P-81 batched = single", curl_batch_matches_single),
        ("Kerl known answer", kerl_known_answer),
        ("ISS address (Kerl, security 2)", iss_address),
        ("proof of work, MWM 9", proof_of_work),
    ]


def run_selftest() -> int:
    console = Console()
    table = Table(title="pyri selftest")
    table.add_column("check")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    failed = 0
    for name, check in _checks():
        start = time.perf_counter()
        ok = check()
        failed += not ok
        table.add_row(name, "ok" if ok else "[red]FAILED", f"{time.perf_counter() - start:.3f}")
    console.print(table)
    return 1 if failed else 0
