"""Consensus: what the node accepts, stores, confirms and counts, following IRI 1.8.6.

Ingest validation, solidification, milestones, ledger confirmation and snapshots, one module per
concept. Modules hold pure rules where they can; stateful wrappers take their collaborators
through their constructors.
"""
