"""MemoryEngine specifics: copy-on-write snapshots. The shared contract is in test_engine.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyri.storage import MemoryEngine


def test_commits_without_open_views_update_in_place() -> None:
    engine = MemoryEngine(["alpha", "beta"])
    before = engine._buckets["alpha"]
    for i in range(3):
        with engine.write() as batch:
            batch.put("alpha", bytes([i + 1]), b"v")
    assert engine._buckets["alpha"] is before


def test_commit_copies_only_buckets_an_open_view_pins() -> None:
    engine = MemoryEngine(["alpha", "beta"])
    alpha, beta = engine._buckets["alpha"], engine._buckets["beta"]
    with engine.read() as view:
        with engine.write() as batch:
            batch.put("alpha", b"k", b"v")
        assert engine._buckets["alpha"] is not alpha  # copied: the view still reads the old one
        assert engine._buckets["beta"] is beta  # untouched: still shared
        assert view.get("alpha", b"k") is None
    with engine.write() as batch:  # the view is closed: no copy now
        current = engine._buckets["alpha"]
        batch.put("alpha", b"k2", b"v")
    assert engine._buckets["alpha"] is current


operations = st.lists(
    st.one_of(
        st.tuples(st.just("open")),
        st.tuples(st.just("close"), st.integers(0, 5)),
        st.tuples(
            st.just("commit"),
            st.dictionaries(st.binary(min_size=1, max_size=2), st.none() | st.binary(max_size=2)),
        ),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_every_open_view_keeps_its_snapshot(ops: list[tuple[object, ...]]) -> None:
    engine = MemoryEngine(["alpha"])
    model: dict[bytes, bytes] = {}
    views = []
    for op in ops:
        if op[0] == "open":
            views.append((engine.read(), dict(model)))
        elif op[0] == "close" and views:
            view, _ = views.pop(int(op[1]) % len(views))  # type: ignore[call-overload]
            view.close()
        elif op[0] == "commit":
            changes: dict[bytes, bytes | None] = op[1]  # type: ignore[assignment]
            with engine.write() as batch:
                for key, value in changes.items():
                    if value is None:
                        batch.delete("alpha", key)
                        model.pop(key, None)
                    else:
                        batch.put("alpha", key, value)
                        model[key] = value
        for view, snapshot in views:
            assert list(view.iterate("alpha")) == sorted(snapshot.items())
    with engine.read() as view:
        assert list(view.iterate("alpha")) == sorted(model.items())
        assert view.count("alpha") == len(model)
