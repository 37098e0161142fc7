"""Work outside requests: the ``jobs`` table, the worker loop that claims due jobs with a
lease, and the APScheduler process that only enqueues (ARCHITECTURE.md §4).

Modules (import from them directly; this package imports nothing, to stay cycle-free):

* ``models``    — ``Job``, ``JobState`` (queued → running → done | dead).
* ``registry``  — ``HANDLERS`` (kind → "module:function"), ``PERIODIC``, ``SCHEDULE_PROVIDERS``,
  ``JobContext``, ``PeriodicJob``, ``ScheduledJob``: packages add one line per job kind.
* ``service``   — ``JobService(session, clock)``: ``enqueue`` in the caller's transaction
  (unique keys make it idempotent), ``has_pending``, ``get``, ``list_jobs``, ``counts``,
  ``retry``, ``cancel``, ``purge_finished``.
* ``worker``    — ``Worker``: ``claim``, ``run_once``, ``run_forever``; leases, back-off,
  dead-lettering.
* ``scheduler`` — ``Scheduler``: ``tick`` (enqueue what is due), ``start``/``shutdown``.
* ``runtime``   — ``EmbeddedRuntime``: scheduler + worker threads in one process.
* ``handlers``  — built-in kinds ``noop`` and ``purge_finished_jobs``.
"""
