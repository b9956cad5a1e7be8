"""What ``seqclip data show`` and ``seqclip plot`` draw: the data is gathered here (a dataset's clip;
a run's metrics, model and validation split) and handed to the pure figures of ``plots.py``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ..errors import UserError

__all__ = ["clip_figure", "run_figures", "views_title", "TITLE_WIDTH"]

TITLE_WIDTH = 120  # characters a line of a clip figure's title holds at its font size


def clip_figure(data: str | Path, clip_id: str, out: str | Path) -> Path:
    """The three views of clip ``clip_id`` of a dataset (directory or shards), captions as the title."""
    from radar_text_data import SPLITS
    from radar_text_data.source import open_split, resolve_data

    from ..plots import plot_views

    location = resolve_data(data)
    for split in SPLITS:
        source = open_split(location, split)
        found = [i for i, r in enumerate(source.records) if r.id == clip_id]
        if found:
            break
    else:
        raise UserError(f"no clip {clip_id!r} in {data}")
    record = source.records[found[0]]
    title = views_title(clip_id, record.split, record.captions)
    return plot_views(source.load(found[0]), record.frame_rate_hz or 50.0, title, out)


def views_title(clip_id: str, split: str, captions: list[str] | tuple[str, ...]) -> str:
    """A clip figure's title: the id and split, then each caption wrapped to ``TITLE_WIDTH`` characters."""
    wrapped = (textwrap.fill(c, TITLE_WIDTH) for c in captions)
    return "\n".join([f"{clip_id} ({split})", *wrapped])


def run_figures(run: str | Path, data: str | Path | None = None, examples: int = 3) -> list[Path]:
    """``RUN/plots/``: loss curves, learning rate and logit scale from the metrics; with the run's
    model (``best/``, else its latest checkpoint), a validation similarity heatmap and retrieval
    examples (query + top-3 Doppler views), at the model's training clip length."""
    from ..plots import plot_curves
    from ..rundir import BEST, PLOTS, latest_checkpoint, read_metrics, run_data

    run = Path(run)
    out_dir = run / PLOTS
    written = [plot_curves(read_metrics(run), out_dir / "curves.png")]
    if not (run / BEST).is_dir() and latest_checkpoint(run) is None:
        return written
    return written + _validation_figures(run, data or run_data(run), out_dir, examples)


def _validation_figures(run: Path, data: str | Path, out_dir: Path, examples: int) -> list[Path]:
    import torch

    from ..data import RadarTextDataset
    from ..model.seqclip import SeqClip
    from ..plots import plot_retrieval_examples, plot_similarity
    from .scorer import Scorer

    model = SeqClip.load_model(run, torch.device("cpu"))
    ds = RadarTextDataset(data, "val", model.config.clip_length, train=False)
    scorer = Scorer(model)
    clips = scorer.embed_clips(ds)
    radar, text = clips.radar.pooled, scorer.embed_texts(clips.captions).pooled  # [N, d], [M, d]
    first = [int((clips.caption_clip == i).nonzero()[0, 0]) for i in range(len(clips))]
    written = [plot_similarity((radar @ text[first].T).numpy(), out_dir / "val_similarity.png")]
    shown = []
    for q in range(min(examples, len(first))):
        scores = text[first[q]] @ radar.T  # [N]
        top = torch.argsort(scores, descending=True, stable=True)[:3].tolist()
        found = []
        for k, clip in enumerate(top):
            position = clips.positions[clip]
            mark = "correct" if clip == q else "other clip"
            found.append((ds.views_at(position)["doppler_time"], f"#{k + 1} ({mark}) {ds.record_at(position).id}"))
        shown.append((clips.captions[first[q]], found))
    return written + [plot_retrieval_examples(shown, out_dir / "retrieval_examples.png")]
