"""The writer's side of the forked ingest protocol (``_ChildBatches.batches``), driven
message by message: chunks are stored in input order and merged up to a batch, the run
ends exactly when every object counted by the child is stored (however late its last
message comes), and an input found damaged after some chunks ends with the decoding error.

The preparation process itself is exercised end to end by
``tests/integration/test_ingest_forked.py``; here the messages it would send are put on
the queue directly, so each ordering is deterministic.
"""

from __future__ import annotations

import marshal
import multiprocessing
import queue
from collections.abc import Iterator
from typing import Any

import pytest

from nca_share.errors import IngestError, ParseError
from nca_share.stix import ingest


def _writer_side(limit: int = 10) -> Any:
    """A _ChildBatches without a process: the test plays the child."""
    batches = object.__new__(ingest._ChildBatches)
    batches._queue = queue.Queue()
    batches._limit = limit
    batches._origin = "test.json"
    batches.estimate = 0
    # no piece is published, so the writer never prepares one itself
    batches._pieces = ingest._Pieces(multiprocessing.get_context("fork"), 0)
    batches._data = b""
    return batches


def _batch(start: int, size: int) -> tuple[bytes, bytes]:
    rows = [
        (i, f"indicator--{i:08d}-0000-4000-8000-000000000000", "", [None] * 20, [], [])
        for i in range(start, start + size)
    ]
    return ingest._MSG_BATCH, ingest._MSG_BATCH + marshal.dumps((start, rows, [], size, 99))


def _done(total: int) -> tuple[bytes, bytes]:
    return ingest._MSG_DONE, ingest._MSG_DONE + marshal.dumps(total)


def _indexes(batch: tuple[list[Any], list[Any], int]) -> list[int]:
    return [p.index for p in batch[0]]


def test_the_end_arriving_after_the_last_chunk_was_stored_ends_the_run() -> None:
    writer = _writer_side()
    writer._queue.put(_batch(0, 5))
    batches: Iterator[Any] = writer.batches()
    assert _indexes(next(batches)) == [0, 1, 2, 3, 4]
    writer._queue.put(_done(5))  # came while the last chunk was being stored
    assert list(batches) == []
    assert writer.estimate == 5


def test_chunks_are_stored_in_input_order_and_merged_up_to_a_batch() -> None:
    writer = _writer_side(limit=10)
    for message in (_batch(5, 5), _batch(15, 5), _batch(0, 5), _batch(10, 5), _done(20)):
        writer._queue.put(message)
    got = [_indexes(batch) for batch in writer.batches()]
    assert got == [list(range(10)), list(range(10, 20))]


def test_a_damaged_input_ends_with_its_error_after_the_objects_before_it() -> None:
    writer = _writer_side()
    writer._queue.put(_batch(0, 3))
    broken = (3, True, "malformed JSON: unexpected end of data", 1, 4242)
    writer._queue.put((ingest._MSG_BROKEN, ingest._MSG_BROKEN + marshal.dumps(broken)))
    batches = writer.batches()
    assert _indexes(next(batches)) == [0, 1, 2]
    with pytest.raises(ParseError) as error:
        next(batches)
    assert (error.value.line, error.value.column) == (1, 4242)
    assert "test.json line 1, column 4242" in str(error.value)


def test_missing_objects_are_an_error_not_a_hang() -> None:
    writer = _writer_side()
    writer._queue.put(_batch(0, 3))
    writer._queue.put(_done(6))  # the child claims more objects than it sent
    batches = writer.batches()
    next(batches)
    with pytest.raises(IngestError, match="before every object was prepared"):
        next(batches)


def test_the_writer_takes_in_only_what_it_stores_next() -> None:
    """A child faster than the database must wait (bounded queue, then the pipe) instead of
    piling prepared objects up in the writer's memory."""
    writer = _writer_side(limit=10)
    for start in range(0, 100, 5):
        writer._queue.put(_batch(start, 5))
    writer._queue.put(_done(100))
    batches = writer.batches()
    assert _indexes(next(batches)) == list(range(10))
    assert writer._queue.qsize() == 19  # 2 of the 21 messages taken in
    assert [len(b[0]) for b in batches] == [10] * 9
