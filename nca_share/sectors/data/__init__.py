"""Packaged data of the sectors package (TOML), loaded by :mod:`nca_share.sectors.taxonomy`."""
