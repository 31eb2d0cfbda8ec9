"""Reading labelled data: which rows are kept, and where each one came from."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from vigil.errors import DataError
from vigil.train.data import labelled


def test_rows_without_text_or_label_are_dropped_and_kept_rows_remember_their_place() -> None:
    table = pa.table(
        {
            "text": ["a", None, "c", "d", "e"],
            "label": [0, 1, None, 1, 0],
            "source": ["s0", "s1", "s2", "s3", "s4"],
        }
    )
    data = labelled(table)
    assert data.text.to_pylist() == ["a", "d", "e"]
    assert data.label.tolist() == [0, 1, 0]
    assert data.dropped == 2
    assert data.extra.column("source").to_pylist() == ["s0", "s3", "s4"]
    assert [data.file_row(i) for i in range(len(data))] == [0, 3, 4]


def test_chunked_columns_keep_file_positions_across_chunks() -> None:
    table = pa.Table.from_batches(
        [
            pa.record_batch({"text": ["a", None], "label": [1, 0]}),
            pa.record_batch({"text": ["c", "d"], "label": [None, 0]}),
        ]
    )
    data = labelled(table)
    assert data.text.to_pylist() == ["a", "d"]
    assert data.file_rows is not None
    np.testing.assert_array_equal(data.file_rows, [0, 3])


def test_labels_other_than_zero_or_one_are_refused() -> None:
    with pytest.raises(DataError, match=r"has values \[2\]; expected 0 or 1"):
        labelled(pa.table({"text": ["a", "b"], "label": [0, 2]}))
