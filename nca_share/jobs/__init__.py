"""Work outside requests: the ``jobs`` table, the worker loop that claims due jobs with a
lease, and the APScheduler process that only enqueues (ARCHITECTURE.md §4)."""
