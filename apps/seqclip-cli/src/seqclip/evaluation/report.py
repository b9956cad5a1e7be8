"""What the commands print: Rich tables of results (one retrieval table for training and eval)."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from rich.table import Table

from .results import Directions, Evaluation, RankMetrics, TrainSummary, ZeroShotResult

__all__ = ["retrieval_table", "print_eval", "print_summary", "print_zero_shot", "FEW_CLIPS", "few_clips_warning"]

FEW_CLIPS = 20  # below this many clips a bootstrap interval says little: a warning is printed beside it

DIRECTIONS: Final = ("text_to_radar", "radar_to_text")
RECALLS: Final = ("R@1", "R@5", "R@10")  # columns with an interval
RANKS: Final = ("median_rank", "mean_rank", "mAP")


def retrieval_table(title: str, by_direction: Directions) -> Table:
    """Both directions' retrieval metrics, each recall with its 95 % interval where the metrics carry one."""
    table = Table(title=title)
    for col in ("direction", *RECALLS, *(k.replace("_", " ") for k in RANKS)):
        table.add_column(col)
    for direction in DIRECTIONS:
        m = by_direction[direction]
        ci = m.get("interval")
        recalls = [_ci(m[k], ci[k] if ci else None) for k in RECALLS]
        table.add_row(direction.replace("_", " "), *recalls, *(_ci(m[k], None) for k in RANKS))
    return table


def _point(m: RankMetrics) -> RankMetrics:
    """``m`` without its intervals."""
    out = m.copy()
    out.pop("interval", None)
    return out


def print_eval(console: Console, result: Evaluation) -> None:
    """The table of one ``seqclip eval`` result."""
    if result["task"] == "retrieval":
        proto = result["protocol"]
        table = retrieval_table(
            f"retrieval ({proto['name']}, {proto['clips']} clips, score: {result['similarity']}; [95 % interval])",
            result,
        )
    elif result["task"] == "zeroshot":
        print_zero_shot(console, result)
        return
    else:
        what = (
            "own caption vs the order-swapped twin's"
            if result["task"] == "twins"
            else "own caption vs its order-reversed wording"
        )
        table = Table(title=f"{what} (score: {result['similarity']})")
        for col in ("accuracy", "95 % interval", "comparisons", "clips", "chance"):
            table.add_column(col)
        low, high = result["interval"]
        table.add_row(
            f"{result['accuracy']:.1f}",
            f"[{low:.1f}, {high:.1f}]",
            str(result["comparisons"]),
            str(result["clips"]),
            "50.0",
        )
    console.print(table)
    _warn_few(console, result["protocol"]["clips"] if result["task"] == "retrieval" else result["clips"])


def print_summary(console: Console, summary: TrainSummary) -> None:
    """The end of ``seqclip train``: the run, its best validation R@1, test retrieval."""
    best, accuracy = summary["best_val_r1"], summary.get("best_val_accuracy")
    val = (
        f"best val class accuracy {accuracy:.1f} %"
        if accuracy is not None
        else f"best val R@1 {best:.1f}"
        if best is not None
        else "no validation ran: the run stopped before an epoch ended"
    )
    console.print(f"run directory: {summary['run']} ({summary['steps']} steps, {val})")
    if summary.get("excluded_clips"):
        console.print(f"left out {summary['excluded_clips']} bad clip(s) found before training (--skip-bad)")
    if "test" not in summary:
        return
    test = summary["test"]
    n = summary["test_clips"]
    which = "best/" if summary["test_model"] == "best" else "the latest weights"
    plain: Directions = {"text_to_radar": _point(test["text_to_radar"]), "radar_to_text": _point(test["radar_to_text"])}
    console.print(
        retrieval_table(
            f"test retrieval of {which} over the full gallery ({n} clips; chance R@1 = {100 / n:.1f}%)", plain
        )
    )
    _warn_few(console, n, "test score")
    ci = [
        f"{d.replace('_', ' ')} R@1 [{low:.1f}, {high:.1f}]"
        for d in DIRECTIONS
        if "interval" in test[d]
        for low, high in [test[d]["interval"]["R@1"]]
    ]
    if ci:  # one line under the table: intervals in its cells would wrap an 80-column terminal
        console.print("95 % intervals (resampling clips): " + "; ".join(ci), highlight=False)


def few_clips_warning(clips: int, what: str = "score") -> str | None:
    """A warning when a score rests on fewer than ``FEW_CLIPS`` clips (its interval is not meaningful)."""
    if clips >= FEW_CLIPS:
        return None
    return (
        f"warning: this {what} rests on {clips} clip(s): with fewer than {FEW_CLIPS} clips its 95 % interval "
        f"is not meaningful"
    )


def _warn_few(console: Console, clips: int, what: str = "score") -> None:
    warning = few_clips_warning(clips, what)
    if warning:
        console.print(f"[yellow]{warning}[/]", highlight=False)


def _ci(value: float | None, interval) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" + (f" [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else "")


def print_zero_shot(console: Console, result: ZeroShotResult) -> None:
    """Zero-shot: top-1 / top-5 / balanced with 95 % intervals and chance, what was not scored, and
    the generalised report when unseen classes are named."""
    table = Table(
        title=f"zero-shot ({result['clips']} clips, {len(result['classes'])} candidate classes, "
        f"prompts: {result.get('prompt_source', 'names')}, score: {result['similarity']}; "
        "[95 % interval])"
    )
    for col in ("metric", "accuracy", "chance"):
        table.add_column(col)
    table.add_row("top-1", _ci(result["top1"], result["top1_interval"]), f"{result['chance_top1']:.1f}")
    table.add_row(
        f"top-{result['top5_k']}", _ci(result["top5"], result["top5_interval"]), f"{result['chance_top5']:.1f}"
    )
    table.add_row(
        "balanced (per-class mean)",
        _ci(result["balanced"], result["balanced_interval"]),
        f"{result['chance_balanced']:.1f}",
    )
    console.print(table)
    _warn_few(console, result["clips"])
    unlisted, multi = result["unlisted_clips"], result["multi_activity_clips"]
    skipped = (
        [
            f"{sum(unlisted.values())} clip(s) of classes not among the candidates ("
            + ", ".join(f"{k}: {v}" for k, v in unlisted.items())
            + ")"
        ]
        if unlisted
        else []
    )
    skipped += [f"{multi} clip(s) of several activities"] if multi else []
    if skipped:
        console.print("not scored: " + "; ".join(skipped), highlight=False)
    if "confusion_png" in result:
        console.print(f"confusion matrix: {result['confusion_png']}", highlight=False)
    g = result.get("generalized")
    if g:
        table = Table(title=f"generalised zero-shot (all classes candidates; unseen: {', '.join(g['unseen_classes'])})")
        for col in ("", "seen", "unseen", "harmonic mean"):
            table.add_column(col)
        for rule, r in g["rules"].items():
            tags = [t for t, on in (("inductive", r["inductive"]), ("reported", rule == g["calibration"])) if on]
            label = ("raw" if rule == "none" else rule) + (f" ({', '.join(tags)})" if tags else "")
            table.add_row(label, *(_ci(r[k], r["intervals"][k]) for k in ("seen", "unseen", "harmonic_mean")))
        console.print(table)
        for which, only in (("unseen", g["unseen_only"]), ("seen", g["seen_only"])):
            console.print(
                f"{which} classes only as candidates: top-1 {_ci(only['top1'], only['interval'])} "
                f"({only['clips']} clips, chance {only['chance']:.1f})",
                highlight=False,
            )
            if only["clips"]:
                _warn_few(console, only["clips"], f"{which}-only top-1")
        console.print(
            f"calibration {g['calibration']} (fitted on {g['fitted_on']}): gamma {g['gamma']:.3g}; {g['gamma_rule']}",
            highlight=False,
            soft_wrap=True,
        )
