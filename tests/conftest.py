"""Test-wide settings.

Numba kernels compile (or load from the on-disk cache) on their first call, which can take
seconds on a fresh machine; a per-example deadline would then fail whichever hypothesis test
happens to call a kernel first. Deadlines are therefore off; the suite's duration is watched
as a whole instead.
"""

from hypothesis import settings

settings.register_profile("pyri", deadline=None)
settings.load_profile("pyri")
