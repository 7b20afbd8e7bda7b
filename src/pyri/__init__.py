"""pyri: a node for the IOTA legacy (trinary, IRI-protocol) network."""

__version__ = "0.1.0"
