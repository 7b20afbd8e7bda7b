"""The running node: configuration, the single writer, the API backend and worker processes."""
