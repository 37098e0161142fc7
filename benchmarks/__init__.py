"""Benchmarks of nca_share hot paths; each prints one JSON object as its last line."""
