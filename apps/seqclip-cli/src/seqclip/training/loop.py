"""The training loop (open_clip's ``train.py``), as plain functions that read top-down: ``train``
strings together ``setup.setup``, ``train_one_epoch``, ``optimizer_step``, ``end_epoch`` (validation,
best model) and ``final_test``. The CLI is a thin layer over ``train``."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from radar_views import VIEW_NAMES

from ..batches import ROW_IDS, Batch
from ..config import POOLED, TrainConfig
from ..data import SKIP_BAD_HINT, usable_batches
from ..distributed import DistContext
from ..errors import DivergedError
from ..evaluation.results import TrainSummary
from ..evaluation.retrieval import retrieval, validate
from ..evaluation.scorer import Scorer
from ..model.card import append_to_card
from ..model.features import Losses, PreparedBatch
from ..model.losses import cat_features, loss_parameters, seqclip_losses
from ..model.seqclip import SeqClip
from ..rundir import BEST, discard_unfinished_start, save_checkpoint
from ..timing import phase
from .guard import NonFiniteLoss
from .provenance import training_card
from .rng import rng_state, set_rng_state
from .setup import Run, eval_split, setup

__all__ = ["train", "train_one_epoch", "optimizer_step", "device_step", "end_epoch", "final_test", "NonFiniteLoss"]


# ---------------------------------------------------------------------- the whole run
def train(cfg: TrainConfig, console: Console | None = None, distributed: DistContext | None = None) -> TrainSummary:
    """Train, validate each epoch, keep the best model, report test retrieval. Returns a summary."""
    r = setup(cfg, console or Console(), distributed or DistContext.single())
    try:
        with _progress(r) as progress:
            task = progress.add_task(
                "train",
                total=r.steps_per_epoch * cfg.epochs,
                completed=r.state.global_step,
                epoch=r.state.epoch,
                loss=float("nan"),
                sps=0.0,
            )
            while r.state.epoch < cfg.epochs:
                train_one_epoch(r, lambda **kw: progress.update(task, advance=1, **kw))
                _check_losses(r)  # before validation and the epoch's checkpoint
                if r.state.batch_in_epoch >= r.batches_per_epoch:
                    end_epoch(r, progress.console)
                r.last_ckpt = _checkpoint(r) or r.last_ckpt
                r.dist.barrier()
                if r.stop_requested():
                    break
    except NonFiniteLoss as err:
        kept = r.last_ckpt or _checkpoint(r)  # the weights are still those of the last good step
        where = f"the last good checkpoint is {kept}" if kept else "no checkpoint was written"
        raise DivergedError(f"{err}; stopping, {where}") from None
    except BaseException:  # a start that dies before its first checkpoint leaves nothing behind
        if r.run_dir is not None:
            r.logger.close()
            discard_unfinished_start(r.run_dir, r.created_run_dir)
        raise
    finally:
        r.logger.close()
    return final_test(r)


def _progress(r: Run) -> Progress:
    return Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TextColumn("{task.fields[sps]:.1f} samples/s"),
        TimeRemainingColumn(),
        console=r.console,
        disable=not r.dist.is_main,
        transient=False,
    )


def _check_losses(r: Run) -> None:
    """Raise ``NonFiniteLoss`` if a step since the last check had a NaN or Inf loss (``guard``; with
    fp16's loss scaling every step is checked at once instead)."""
    if r.guard is not None:
        r.guard.check(r)


def _checkpoint(r: Run) -> Path | None:
    if not r.dist.is_main:
        return None
    trainer_state = {
        "optimizer": r.optimizer.state_dict(),
        "scheduler": r.scheduler.state_dict(),
        "scaler": r.scaler.state_dict(),
        "rng": rng_state(),
        "state": asdict(r.state),
    }
    return save_checkpoint(r.run_dir, r.model, trainer_state, r.cfg.keep_last, training_card(r))


# ---------------------------------------------------------------------- one epoch, one step
def train_one_epoch(r: Run, on_step) -> None:
    """Optimizer steps from the saved batch position to the epoch's last whole accumulation group
    (or the end of the data, when a stream without an index holds fewer samples than announced),
    or until ``max_steps``. ``on_step(loss=, sps=, epoch=)`` reports progress (the loss as of the
    last log step: the host reads the step's values only there)."""
    cfg, state = r.cfg, r.state
    epoch = state.epoch
    r.model.train()
    t0, seen, window, group, shown = time.perf_counter(), 0, [], [], float("nan")
    for batch in _lockstep(r, r.train_data.batches(epoch, state.batch_in_epoch)):
        if state.batch_in_epoch + len(group) >= r.batches_per_epoch:
            return
        group.append(batch)
        if len(group) < cfg.accum_steps:
            continue
        state.skipped += sum(b["skipped"] for b in group)
        used = [b for b in group if "captions" in b]
        if used:
            window.append(optimizer_step(r, used))
            seen += sum(len(b["captions"]) for b in used) * r.dist.world_size
        state.batch_in_epoch += len(group)
        group = []
        if not used:
            continue
        sps = seen / max(time.perf_counter() - t0, 1e-9)
        epoch_done = state.batch_in_epoch >= r.batches_per_epoch
        if state.global_step % cfg.log_every == 0 or epoch_done or r.stop_requested():
            _check_losses(r)
            values = [{k: float(v) for k, v in w.items()} for w in window]  # the one host read of the losses
            mean = {k: float(np.mean([v[k] for v in values])) for k in values[0]}
            r.logger.log(
                state.global_step, {**mean, "epoch": epoch, "lr": r.scheduler.get_last_lr()[0], "samples_per_s": sps}
            )
            window, shown = [], values[-1]["loss_total"]
        on_step(loss=shown, sps=sps, epoch=epoch)
        if state.global_step % cfg.checkpoint_every == 0:
            _check_losses(r)
            r.last_ckpt = _checkpoint(r) or r.last_ckpt
        if r.stop_requested():
            return
    if state.batch_in_epoch < r.batches_per_epoch:  # the data ended first (only streams without an index)
        if r.dist.is_main:
            r.console.print(
                f"[yellow]epoch {epoch}: the data ended after {state.batch_in_epoch} of "
                f"{r.batches_per_epoch} micro-batches (--train-num-samples is larger than the shards)"
            )
        state.batch_in_epoch = r.batches_per_epoch


def _lockstep(r: Run, batches):
    """Micro-batches cut to the smallest rank's (a clip dropped at load time by --skip-bad would
    otherwise leave ranks with unequal batches, which the feature gather forbids); the data ends on
    every rank as soon as it ends on one (shards need not split evenly)."""
    batches = usable_batches(batches, SKIP_BAD_HINT)
    while True:
        with phase("loading"):
            batch = next(batches, None)
        n = -1 if batch is None else len(batch.get("captions", ()))
        keep = r.dist.min_across_ranks(n)
        if batch is None or keep < 0:
            return
        if keep == n:
            yield batch
            continue
        if not keep:
            yield {"skipped": batch["skipped"] + n}
            continue
        out = batch.copy()  # order negatives stay: extra negatives only
        for k in (*VIEW_NAMES, "mask", *ROW_IDS):
            if k in batch:
                out[k] = batch[k][:keep]
        out["captions"] = batch["captions"][:keep]
        out["skipped"] = batch["skipped"] + n - keep
        yield out


def optimizer_step(r: Run, group: list[Batch]) -> dict[str, torch.Tensor]:
    """One optimizer step on ``group`` (``accum_steps`` micro-batches of the data path): the host's
    half (``SeqClip.prepare``: tokens, device copies), then ``device_step``. Returns the step's
    scalars (losses, logit scale) as 0-dim tensors, left on the device: reading them is the caller's
    choice (the loop reads them at log steps)."""
    return device_step(r, [r.model.prepare(b) for b in group])


def device_step(r: Run, group: list[PreparedBatch]) -> dict[str, torch.Tensor]:
    """The step on prepared micro-batches; it never waits for the device (``tests/test_step_syncs``).
    With several micro-batches the features of all are computed first without gradients, then each
    micro-batch is recomputed with gradients against the others' cached features (same RNG draws):
    the gradient of the loss over the whole group, as if it were one batch (open_clip's
    ``accum_freq``, with the loss's own parameters counted once)."""
    if len(group) == 1:
        if r.cuda_graphs:  # the replay's outputs live until the next replay: a new step begins here
            torch.compiler.cudagraph_mark_step_begin()
        with r.autocast():
            out = r.train_model(group[0])
        _backward(r, out)
    else:
        out = _accumulate(r, group)
    if r.guard is not None:  # a NaN / Inf loss: this update (and every later one) is skipped on the device
        r.guard.arm(r, out["loss_total"])
    with phase("optimizer"):
        if r.cfg.grad_clip > 0:
            r.scaler.unscale_(r.optimizer)
            torch.nn.utils.clip_grad_norm_(r.model.parameters(), r.cfg.grad_clip)
        r.scaler.step(r.optimizer)
        r.scaler.update()
        r.optimizer.zero_grad(set_to_none=True)
        r.scheduler.step()
        r.model.logit_scale.clamp_()
    r.state.global_step += 1
    scalars = {k: v for k, v in out.items() if isinstance(v, torch.Tensor) and v.dim() == 0}
    values = torch.stack([v.detach().float() for v in scalars.values()])  # one copy: CUDA graphs reuse their outputs
    return dict(zip(scalars, values.unbind(), strict=True))


def _accumulate(r: Run, group: list[PreparedBatch]) -> Losses:
    ids = torch.cat([b["sample_ids"] for b in group])
    rng, cached = [], []
    with torch.no_grad(), r.autocast():
        for b in group:
            rng.append(rng_state())
            cached.append(r.train_model(b, return_features=True))
    after = rng_state()
    for j, b in enumerate(group):
        set_rng_state(rng[j])  # the same dropout draws as the cached pass
        with r.dist.no_sync(r.train_model, last=j == len(group) - 1):
            with r.autocast():
                feats = r.train_model(b, return_features=True)
                out = seqclip_losses(r.model, cat_features([feats if i == j else c for i, c in enumerate(cached)]), ids)
            _backward(r, out)
    set_rng_state(after)
    for p in loss_parameters(r.model):  # every pass added the whole loss's gradient to these
        if p.grad is not None:
            p.grad /= len(group)
    return out


def _backward(r: Run, out: Losses) -> None:
    loss = out["loss_total"]
    if r.guard is None and not torch.isfinite(loss.detach()):  # fp16: checked here, at once
        raise NonFiniteLoss(
            f"loss became {float(loss.detach())} at step {r.state.global_step + 1} (epoch {r.state.epoch})"
        )
    with phase("backward"):
        r.scaler.scale(loss).backward()


# ---------------------------------------------------------------------- validation and test
def end_epoch(r: Run, console: Console) -> None:
    """Close the epoch: validation on rank 0, the best model kept in ``best/``: by validation class
    accuracy on a label dataset (``Run.val_classes``), else by mean validation R@1."""
    epoch = r.state.epoch
    r.state.epoch, r.state.batch_in_epoch = epoch + 1, 0
    if not r.dist.is_main:
        return
    if r.val_ds is None:
        console.print(f"epoch {epoch}: no validation (shards without an index.json have no known val split)")
        return
    metrics = validate(r.model, r.val_ds, r.cfg.batch_size, r.val_classes)
    r1 = (metrics["text_to_radar"]["R@1"] + metrics["radar_to_text"]["R@1"]) / 2
    accuracy = metrics["flat"].get("class_accuracy")  # a label dataset's
    r.logger.log(r.state.global_step, {"epoch": epoch, **{f"val_{k}": v for k, v in metrics["flat"].items()}})
    if accuracy is not None:
        better = r.state.best_accuracy is None or accuracy > r.state.best_accuracy
        r.state.best_accuracy = max(accuracy, r.state.best_accuracy or accuracy)
    else:
        better = r.state.best_r1 is None or r1 > r.state.best_r1
    r.state.best_r1 = max(r1, r.state.best_r1 if r.state.best_r1 is not None else r1)
    if better:
        r.model.save_pretrained(r.run_dir / BEST, training=training_card(r, epoch))
    best = (
        f"class accuracy {accuracy:.1f} % (best {r.state.best_accuracy:.1f}, which keeps best/)"
        if accuracy is not None
        else f"(best {r.state.best_r1:.1f})"
    )
    console.print(
        f"epoch {epoch}: val loss {metrics['flat']['loss_total']:.3f}, "
        f"R@1 t2r {metrics['text_to_radar']['R@1']:.1f} r2t {metrics['radar_to_text']['R@1']:.1f} {best}"
    )


def final_test(r: Run) -> TrainSummary:
    """The run's summary; on rank 0 with ``eval_test``, test retrieval of ``best/`` (or of the last
    weights when no validation ran)."""
    cfg, state = r.cfg, r.state
    summary: TrainSummary = {
        "run": str(cfg.out),
        "steps": state.global_step,
        "epochs": state.epoch,
        "best_val_r1": state.best_r1,
        "best_val_accuracy": state.best_accuracy,
        "skipped_clips": state.skipped,
        "excluded_clips": len(r.excluded),
        "data": r.data.spec,
    }
    if state.skipped:
        r.console.print(f"[yellow]skipped {state.skipped} clip(s) that failed to load (--skip-bad)")
    if not (r.dist.is_main and cfg.eval_test):
        return summary
    test_ds = eval_split(cfg, r.data, "test", r.excluded)
    if test_ds is None:
        r.console.print("no test split: shards without an index.json (evaluate with `seqclip eval --data ...`)")
        return summary
    best = r.run_dir / BEST
    model = SeqClip.from_pretrained(best, map_location=r.device).to(r.device) if best.is_dir() else r.model
    summary["test"] = retrieval(Scorer(model, POOLED, cfg.batch_size), test_ds)
    summary["test_clips"] = len(test_ds)
    summary["test_model"] = "best" if best.is_dir() else "latest"
    if best.is_dir():
        append_to_card(
            best, f"Test split ({len(test_ds)} clips, the final test of seqclip train, 95 % intervals)", summary["test"]
        )
    return summary
