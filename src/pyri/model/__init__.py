"""Protocol values: transactions (and, later, bundles), parsed from trytes and immutable.

Importing a submodule loads the Curl kernels (numba), so this package re-exports nothing: import
``pyri.model.transaction`` where it is needed.
"""
