"""Trinary cryptography: Curl-P, Kerl, WOTS/ISS signatures, Merkle trees, proof of work.

Pure functions over trit arrays; nothing here does I/O or keeps state between calls. The
submodules are imported on use, so that importing ``pyri`` never loads numba.
"""
