"""The demo that ``make run`` starts: real sample data (copied from the shared data set, see
``data/PROVENANCE.md``), demo accounts, and the embedded platform serving on loopback."""
