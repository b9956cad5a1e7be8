"""What the commands print: Rich tables of results (one retrieval table for training and eval)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["retrieval_table", "print_eval", "print_summary"]

RETRIEVAL_COLUMNS = (("R@1", "R@1"), ("R@5", "R@5"), ("R@10", "R@10"), ("median rank", "median_rank"),
                     ("mean rank", "mean_rank"), ("mAP", "mAP"))


def retrieval_table(title: str, by_direction: dict[str, dict]) -> Table:
    """Both directions' retrieval metrics, each with its 95 % interval where the metrics carry one."""
    table = Table(title=title)
    for col in ("direction", *(name for name, _ in RETRIEVAL_COLUMNS)):
        table.add_column(col)
    for direction in ("text_to_radar", "radar_to_text"):
        m = by_direction[direction]
        ci = {k: f" [{low:.1f}, {high:.1f}]" for k, (low, high) in m.get("interval", {}).items()}
        table.add_row(direction.replace("_", " "), *(f"{m[k]:.1f}{ci.get(k, '')}" for _, k in RETRIEVAL_COLUMNS))
    return table


def print_eval(console: Console, result: dict) -> None:
    """The table of one ``seqclip eval`` result."""
    if result["task"] == "retrieval":
        proto = result["protocol"]
        table = retrieval_table(f"retrieval ({proto['name']}, {proto['clips']} clips, score: {result['similarity']}; "
                                f"[95 % interval])", result)
    elif result["task"] == "zeroshot":
        table = Table(title=f"zero-shot activity recognition ({result['clips']} single-activity clips)")
        for col in ("top-1", "top-5", "chance top-1", "confusion matrix"):
            table.add_column(col)
        table.add_row(f"{result['top1']:.1f}", f"{result['top5']:.1f}", f"{result['chance_top1']:.1f}",
                      result["confusion_png"])
    else:
        what = ("own caption vs the order-swapped twin's" if result["task"] == "twins"
                else "own caption vs its order-reversed wording")
        table = Table(title=f"{what} (score: {result['similarity']})")
        for col in ("accuracy", "95 % interval", "comparisons", "clips", "chance"):
            table.add_column(col)
        low, high = result["interval"]
        table.add_row(f"{result['accuracy']:.1f}", f"[{low:.1f}, {high:.1f}]", str(result["comparisons"]),
                      str(result["clips"]), "50.0")
    console.print(table)


def print_summary(console: Console, summary: dict) -> None:
    """The end of ``seqclip train``: the run, its best validation R@1, test retrieval."""
    best = summary["best_val_r1"]
    val = f"best val R@1 {best:.1f}" if best is not None else "no validation ran: the run stopped before an epoch ended"
    console.print(f"run directory: {summary['run']} ({summary['steps']} steps, {val})")
    if summary.get("excluded_clips"):
        console.print(f"left out {summary['excluded_clips']} bad clip(s) found before training (--skip-bad)")
    if "test" not in summary:
        return
    n = summary["test_clips"]
    which = "best/" if summary["test_model"] == "best" else "the latest weights"
    console.print(retrieval_table(f"test retrieval of {which} over the full gallery ({n} clips; chance R@1 = "
                                  f"{100 / n:.1f}%)", summary["test"]))
