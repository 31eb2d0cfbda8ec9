"""Named defaults, each with the reason or measurement behind it."""

from __future__ import annotations

#: How often a running scorer re-reads its alias on a local store: every batch. A stat of a
#: small local file costs ~10 µs, against ~10 ms to score a 2,048-row DuckDB chunk.
ALIAS_RECHECK_SECONDS_LOCAL = 0.0

#: On object storage a re-check is a HEAD/GET round trip (~20 ms on S3), so at most every
#: few seconds; a promotion is picked up by the next batch after that.
ALIAS_RECHECK_SECONDS_REMOTE = 5.0

#: onnxruntime intra-op threads per scorer. DuckDB already runs one UDF call per thread;
#: one ORT thread each avoids oversubscribing the cores (bench/powershell_udf.py).
ORT_THREADS = 1

#: Final scores a bound detection remembers across batches (logs repeat: a DNS log asks for
#: the same names all day). A hit costs a dict lookup (~0.1 µs) against ~5 µs to featurize
#: and score a distinct value; 0 turns the memo off (vigil/runtime/memo.py).
SCORE_MEMO_SIZE = 262_144

#: Longer values (UTF-8 bytes) are never memoized. Scoring a value costs far more than
#: looking it up (a 64 KB script block: ~1 ms of features against ~50 µs to make it a
#: Python string and hash it), but a 1 MB block would take a sixteenth of a generation's
#: byte budget. The cap was 1 KB: then the few longer command lines of a process log (0.4 %
#: of the benchmark's distinct lines) were scored again in every batch, and a batch whose
#: other lines were all memo hits still paid a pipeline run (a hot memo scored 300,000
#: generated events in 0.98 s; with this cap 0.21 s).
SCORE_MEMO_MAX_VALUE_BYTES = 65_536

#: UTF-8 bytes of memoized value text a bound detection may hold. With SCORE_MEMO_SIZE
#: entries (~115 bytes of Python objects and dict slot each, measured) the worst case is
#: ~65 MB per bound detection; a DNS log's names (~30 bytes) fill it to ~40 MB.
SCORE_MEMO_MAX_BYTES = 32 * 1024 * 1024

#: Rows per batch when vigil itself batches (CLI scoring, training-set features).
BATCH_ROWS = 8192

#: The alias every detection scores with unless told otherwise.
DEFAULT_ALIAS = "production"

#: Where an unconfigured vigil keeps its warehouse and models, relative to the working dir.
DEFAULT_HOME = ".vigil"
DEFAULT_DATABASE = ".vigil/vigil.duckdb"
DEFAULT_STORE = ".vigil/models"

#: False-positive rate the alert threshold is chosen for at training time.
TARGET_FPR = 1e-3

#: Alert thresholds are never set below even odds (see vigil/train/pipeline.py).
MIN_ALERT_THRESHOLD = 0.5

#: Validation negatives that must lie above an alert threshold for it to be estimated at
#: all; with fewer, the target false-positive rate is relaxed to 5 / n_negatives.
MIN_NEGATIVES_ABOVE_THRESHOLD = 5
