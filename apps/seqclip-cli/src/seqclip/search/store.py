"""An embedding directory (``seqclip embed``): ``embeddings.json`` (the model's fingerprint, the
source, the options that decide its rows) and, per table (``clips`` or ``texts``), parts of a fixed
row count: ``{table}-00000.parquet`` (row, id, the frames ``start``-``end`` of the clip that the
vector covers, split, labels, captions; or id and text; the pooled vector) and, with
sequences, ``{table}-00000.sequences.npy`` (float16 ``[rows, n, d]``) and ``.mask.npy``. A part is
written beside and renamed into place, its Parquet file last: a part with a Parquet file is whole."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from radar_views import atomic_write

from ..errors import UserError

__all__ = ["StoreMeta", "EmbeddingStore", "META", "TABLES", "RUN_IDENTITY"]

META = "embeddings.json"
TABLES = ("clips", "texts")


@dataclass
class StoreMeta:
    """What an embedding directory holds and how it was made (a resumed run must match it). Paths are
    recorded relative to the directory (``files.path_to_record``): the two can move together."""

    fingerprint: str  # model.pretrained.model_fingerprint of the model that embedded
    model: str  # the checkpoint
    source: str  # the data, folder or text file
    dim: int
    sequence: bool  # sequences stored beside the pooled vectors
    clip_length: int
    part_size: int
    tables: dict = field(default_factory=dict)  # table -> {"rows": total, "parts": count}
    version: str = ""  # seqclip-cli's
    split: str | None = None  # clips: the dataset split embedded, or "all"; None for sentences
    captions: bool | None = None  # clips: their captions embedded too (table texts)
    window: int | None = None  # clips: frames per window (None: one row a clip, from its first frame)
    stride: int | None = None  # clips: frames between window starts
    content: str = ""  # digest of the rows to embed (ids and frame ranges, or sentences)

    def same_run(self, other: StoreMeta) -> str | None:
        """What differs from ``other`` (the run being resumed) in the fields a resumed run must keep, or None."""
        diff = [k for k in RUN_IDENTITY if getattr(self, k) != getattr(other, k)]
        return (
            None
            if not diff
            else ", ".join(f"{RUN_IDENTITY[k]} {getattr(other, k)!r} then, {getattr(self, k)!r} now" for k in diff)
        )


RUN_IDENTITY = {
    "fingerprint": "model fingerprint",
    "source": "source",
    "split": "--split",
    "window": "--window",
    "stride": "--stride",
    "captions": "--captions",
    "sequence": "--sequences",
    "dim": "dim",
    "clip_length": "clip length",
    "part_size": "part size",
    "content": "rows (the source's clips or sentences changed)",
}  # field -> what a message calls it


class EmbeddingStore:
    """Read and write one embedding directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ metadata
    def read_meta(self) -> StoreMeta:
        path = self.root / META
        if not path.is_file():
            raise UserError(f"{self.root}: not an embedding directory (no {META}; make one with `seqclip embed`)")
        try:
            return StoreMeta(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as err:
            raise UserError(f"{path}: unreadable ({err})") from None

    def write_meta(self, meta: StoreMeta) -> None:
        atomic_write(self.root / META, (json.dumps(asdict(meta), indent=1) + "\n").encode())

    # ------------------------------------------------------------------ parts
    def part_path(self, table: str, part: int, suffix: str = ".parquet") -> Path:
        return self.root / f"{table}-{part:05d}{suffix}"

    def done(self, table: str, part: int) -> bool:
        return self.part_path(table, part).is_file()

    def write_part(
        self, table: str, part: int, rows: dict, sequences: np.ndarray | None = None, mask: np.ndarray | None = None
    ) -> None:
        """One part: columns ``rows`` (``pooled`` ``[r, d]`` float32 among them), sequences last-but-one."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if sequences is not None:
            _save_npy(self.part_path(table, part, ".sequences.npy"), sequences.astype(np.float16))
            _save_npy(self.part_path(table, part, ".mask.npy"), mask.astype(bool))
        pooled = np.asarray(rows.pop("pooled"), dtype=np.float32)  # [r, d]
        columns = {**rows, "pooled": pa.FixedSizeListArray.from_arrays(pa.array(pooled.reshape(-1)), pooled.shape[1])}
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table(columns), sink)
        atomic_write(self.part_path(table, part), sink.getvalue().to_pybytes())

    def parts(self, table: str) -> list[int]:
        """Whole parts of ``table``, in order."""
        return sorted(int(p.name.split("-")[1].split(".")[0]) for p in self.root.glob(f"{table}-*.parquet"))

    def columns(self, table: str) -> list[str]:
        """The column names of ``table`` (its first part's schema)."""
        import pyarrow.parquet as pq

        parts = self.parts(table)
        if not parts:
            raise UserError(f"{self.root}: no {table} embeddings")
        return list(pq.read_schema(self.part_path(table, parts[0])).names)

    def table(self, table: str, columns: list[str] | None = None):
        """The whole table as one ``pyarrow.Table`` (its parts in order)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = self.parts(table)
        if not parts:
            raise UserError(f"{self.root}: no {table} embeddings")
        return pa.concat_tables([pq.read_table(self.part_path(table, p), columns=columns) for p in parts])

    def pooled(self, table: str) -> np.ndarray:
        """``[N, d]`` float32 pooled vectors of ``table``."""
        col = self.table(table, ["pooled"]).column("pooled").combine_chunks()
        return np.asarray(col.values, dtype=np.float32).reshape(len(col), -1)

    def sequences(self, table: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored sequences ``[k, n, d]`` (float16) and masks ``[k, n]`` of global ``rows``, memory-mapped."""
        meta = self.read_meta()
        if not meta.sequence:
            raise UserError(f"{self.root}: embedded without sequences (run `seqclip embed --sequences`)")
        parts, at = np.divmod(np.asarray(rows, dtype=np.int64), meta.part_size)
        seq, mask = [None] * len(at), [None] * len(at)
        for part in np.unique(parts):  # each part's arrays opened once
            chosen = np.flatnonzero(parts == part)
            stored = [
                np.load(self.part_path(table, int(part), suffix), mmap_mode="r")
                for suffix in (".sequences.npy", ".mask.npy")
            ]
            for i, s, m in zip(chosen, stored[0][at[chosen]], stored[1][at[chosen]], strict=True):
                seq[i], mask[i] = s, m
        return np.stack(seq), np.stack(mask)


def _save_npy(path: Path, array: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    atomic_write(path, buf.getvalue())
