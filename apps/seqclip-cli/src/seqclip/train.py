"""``seqclip train`` as plain functions that read top-down: ``setup`` (validates everything before the
run directory is touched), ``train_one_epoch``, ``optimizer_step``, ``end_epoch`` (validation, best
model) and ``final_test``; ``train`` strings them together. The CLI is a thin layer over ``train``."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch.utils.data import DataLoader

from radar_text_data.check import format_problems
from radar_text_data.source import DataLocation, resolve_data

from .checkpoint import load_checkpoint, save_checkpoint
from .config import DEFAULT_BATCH, DivergedError, TrainConfig, TrainingError, load_train_config
from .data import EpochSampler, RadarTextDataset, collate, twin_pairs, usable_batches
from .distributed import DistContext
from .evaluate import split_retrieval
from .logger import MetricsLogger
from .model import SeqClip, cat_features
from .optim import param_groups, warmup_cosine
from .runs import check_run_dir, discard_unfinished_start, open_run_dir, resolve_resume
from .stream import ShardStream, TrainData, default_workers
from .timing import phase

__all__ = ["TrainConfig", "TrainingError", "Run", "TrainState", "train", "setup", "train_one_epoch", "optimizer_step",
           "end_epoch", "final_test", "validate", "load_train_config", "default_dataset", "resolve_device"]


class NonFiniteLoss(DivergedError):
    """The loss became NaN or Inf (the run stops; its last good weights are kept)."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available")
    return torch.device(name)


def default_dataset(cfg: TrainConfig, console: Console) -> Path:
    """The default synthetic dataset, generated once into the cache (``SEQCLIP_CACHE`` or ~/.cache)."""
    import radar_synth
    from radar_text_data import MANIFEST

    cache = Path(os.environ.get("SEQCLIP_CACHE", Path.home() / ".cache" / "seqclip"))
    # keyed by the generator's version: a new radar-synth may render the same seed differently
    target = cache / f"synth-{radar_synth.__version__}-{cfg.synth_clips}clips-{cfg.synth_max_frames}f-seed{cfg.seed}"
    if (target / MANIFEST).is_file():
        console.print(f"using the cached synthetic dataset {target}")
        return target
    console.print(f"generating the default synthetic dataset ({cfg.synth_clips} clips) into {target} (once)")
    tmp = target.with_name(target.name + ".partial")
    radar_synth.generate_dataset(tmp, cfg.synth_clips, seed=cfg.seed, workers=cfg.synth_workers, max_frames=cfg.synth_max_frames)
    os.replace(tmp, target)
    return target


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class TrainState:
    """Where a run is, saved in every checkpoint (as a dict under ``trainer_state["state"]``); batch
    positions always sit on optimizer-step boundaries."""

    epoch: int = 0
    batch_in_epoch: int = 0  # micro-batches of the current epoch already used
    global_step: int = 0  # optimizer steps taken
    best_r1: float | None = None  # best mean validation R@1 so far (None: no validation yet)
    skipped: int = 0  # clips that failed to load and were left out (--skip-bad)

    @classmethod
    def from_dict(cls, saved: dict) -> TrainState:
        """A checkpoint's state; seqclip-cli <= 0.1.1 wrote best_r1 = -1.0 for "none yet"."""
        state = cls(**{f.name: saved[f.name] for f in fields(cls) if f.name in saved})
        if state.best_r1 is not None and state.best_r1 < 0:
            state.best_r1 = None
        return state


@dataclass
class Run:
    """What a run holds between steps; ``state`` (a ``TrainState``) is saved in every checkpoint."""

    cfg: TrainConfig
    dist: DistContext
    device: torch.device
    console: Console
    data: DataLocation
    excluded: list[str]
    train_data: TrainData
    val_ds: RadarTextDataset | None  # None: shards without an index have no validation split
    model: SeqClip
    train_model: torch.nn.Module  # the model, DDP-wrapped under torchrun
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    state: TrainState
    steps_per_epoch: int
    run_dir: Path | None = None  # rank 0 only
    logger: MetricsLogger | None = None
    last_ckpt: Path | None = None
    created_run_dir: bool = False  # this start made run_dir (so a failure before any weights removes it)

    @property
    def global_batch(self) -> int:
        return self.cfg.batch_size * self.dist.world_size

    @property
    def batches_per_epoch(self) -> int:
        """Micro-batches an epoch uses: whole accumulation groups only (the remainder is dropped)."""
        return self.steps_per_epoch * self.cfg.accum_steps

    def autocast(self):
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.cfg.precision)
        return torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)

    def stop_requested(self) -> bool:
        return bool(self.cfg.max_steps and self.state.global_step >= self.cfg.max_steps)


# ---------------------------------------------------------------------- the whole run
def train(cfg: TrainConfig, console: Console | None = None, distributed: DistContext | None = None) -> dict:
    """Train, validate each epoch, keep the best model, report test retrieval. Returns a summary."""
    r = setup(cfg, console or Console(), distributed or DistContext.single())
    try:
        with _progress(r) as progress:
            task = progress.add_task("train", total=r.steps_per_epoch * cfg.epochs,
                                     completed=r.state.global_step, epoch=r.state.epoch, loss=float("nan"), sps=0.0)
            while r.state.epoch < cfg.epochs:
                train_one_epoch(r, lambda **kw: progress.update(task, advance=1, **kw))
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
    return Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[sps]:.1f} samples/s"),
                    TimeRemainingColumn(), console=r.console, disable=not r.dist.is_main, transient=False)


def _checkpoint(r: Run) -> Path | None:
    if not r.dist.is_main:
        return None
    trainer_state = {"optimizer": r.optimizer.state_dict(), "scheduler": r.scheduler.state_dict(),
                     "scaler": r.scaler.state_dict(), "rng": _rng_state(), "state": asdict(r.state)}
    return save_checkpoint(r.run_dir, r.model, trainer_state, r.cfg.keep_last)


# ---------------------------------------------------------------------- setup
def setup(cfg: TrainConfig, console: Console, dist: DistContext) -> Run:
    """Everything a run needs, checked before anything is written: a start that fails leaves no
    new directory and never rewrites an existing run's files."""
    device = dist.device if dist.initialized else resolve_device(cfg.device)
    if cfg.batch_size is None:  # the device's default, recorded in config.toml as used
        cfg = replace(cfg, batch_size=DEFAULT_BATCH[device.type])
    if cfg.precision == "fp16" and device.type != "cuda":
        raise TrainingError("--precision fp16 needs CUDA (use bf16 on CPU)")
    model_cfg = cfg.model_config()  # an unknown preset fails here, before any data is read
    check_run_dir(cfg)
    ckpt = resolve_resume(Path(cfg.out), cfg.resume) if cfg.resume else None
    torch.manual_seed(cfg.seed)
    data = _on_main(dist, lambda: _locate(cfg, console))
    excluded = _on_main(dist, lambda: _check_data(cfg, data, console))
    train_data = _train_data(cfg, data, dist, device, excluded)
    val_ds = _eval_split(cfg, data, "val", excluded)
    steps_per_epoch = train_data.samples_per_rank // cfg.batch_size // cfg.accum_steps
    if steps_per_epoch < 1:
        raise TrainingError(f"{train_data.samples_per_rank * dist.world_size} training clips give no optimizer step of "
                            f"{cfg.accum_steps} x {cfg.batch_size * dist.world_size} clips; lower --batch-size or "
                            f"--accum-steps")
    model = SeqClip(model_cfg).to(device)
    if cfg.compile:
        model.compile_parts()
    if cfg.cache_text:
        model.cache_text()
    optimizer = torch.optim.AdamW(param_groups(model, cfg.lr, cfg.weight_decay, cfg.text_lr_mult),
                                  fused=device.type == "cuda")  # one kernel for all parameters on the GPU
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(cfg.warmup_steps, steps_per_epoch * cfg.epochs))
    r = Run(cfg, dist, device, console, data, excluded, train_data, val_ds, model, dist.wrap(model), optimizer,
            scheduler, torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16"), TrainState(),
            steps_per_epoch)
    if ckpt is not None:
        _restore(r, ckpt)
    if dist.is_main:  # only now is anything written
        r.run_dir, moved, r.created_run_dir = open_run_dir(cfg, data.spec)
        if moved:
            console.print(f"--overwrite: moved the previous run to {moved}")
        r.logger = MetricsLogger(r.run_dir, r.state.global_step if ckpt else None)
    else:
        r.logger = MetricsLogger(None)
    return r


def _on_main(dist: DistContext, fn):
    """Run ``fn`` on rank 0 and give every rank its result, or raise its error on every rank."""
    result: dict = {}
    if dist.is_main:
        try:
            result = {"value": fn()}
        except (TrainingError, ValueError, FileNotFoundError) as err:
            result = {"error": str(err)}
    result = dist.broadcast_object(result)
    if "error" in result:
        raise TrainingError(result["error"])
    return result["value"]


def _locate(cfg: TrainConfig, console: Console) -> DataLocation:
    try:
        return resolve_data(cfg.data) if cfg.data else resolve_data(default_dataset(cfg, console))
    except FileNotFoundError as err:
        raise TrainingError(f"--data: {err}") from None


def _check_data(cfg: TrainConfig, data: DataLocation, console: Console) -> list[str]:
    """Ids of clips whose headers fail the check, found before the first step (any -> error unless
    ``skip_bad``). Content (NaN) is checked when a clip is loaded; shards are checked as they stream."""
    from radar_text_data import check_headers, read_manifest

    if data.kind != "directory":
        return []
    records = read_manifest(data.root)
    bad = check_headers(data.root, records, workers=min(8, os.cpu_count() or 1))
    if bad and not cfg.skip_bad:
        raise TrainingError(f"{len(bad)} of {len(records)} clips in {data.spec} cannot be used (fix them, or leave "
                            f"them out with --skip-bad):\n{format_problems([p for _, p in bad])}")
    if bad:
        console.print(f"[yellow]--skip-bad: leaving out {len(bad)} of {len(records)} clips:[/]\n"
                      f"{format_problems([p for _, p in bad])}", highlight=False)
    return [r.id for r, _ in bad]


def _train_data(cfg: TrainConfig, data: DataLocation, dist: DistContext, device: torch.device,
                excluded: list[str]) -> TrainData:
    """The training split: map-style for a directory, streamed for shards (``--workers`` loader
    processes, persistent; pinned batches on CUDA)."""
    workers = default_workers(int(os.environ.get("LOCAL_WORLD_SIZE", "1"))) if cfg.workers is None else cfg.workers
    pin = device.type == "cuda"
    if data.kind == "shards":
        if cfg.twin_batches:
            raise TrainingError("--twin-batches needs a dataset directory (shards are streamed in shuffled order)")
        stream = ShardStream(data, "train", cfg.clip_length, cfg.seed, dist.rank, dist.world_size, workers,
                             cfg.skip_bad, cfg.positives, cfg.order_negatives)
        per_rank = stream.samples_per_rank()
        if per_rank is None:
            if cfg.train_num_samples is None:
                raise TrainingError(f"--data {data.spec}: shards without an index.json need --train-num-samples")
            per_rank = cfg.train_num_samples // dist.world_size
        return TrainData.streamed(stream, cfg.batch_size, per_rank, workers, pin)
    ds = RadarTextDataset(data, "train", cfg.clip_length, train=True, seed=cfg.seed, skip_bad=cfg.skip_bad,
                          exclude=excluded, positives=cfg.positives, order_negatives=cfg.order_negatives,
                          decoded_cache=cfg.decoded_cache)
    sampler = EpochSampler(len(ds), cfg.seed, twins=twin_pairs(ds.records) if cfg.twin_batches else (),
                           batch=cfg.batch_size * dist.world_size)
    return TrainData.mapped(ds, sampler, dist.shard(sampler), cfg.batch_size, dist.world_size, workers, pin)


def _eval_split(cfg: TrainConfig, data: DataLocation, split: str, excluded: list[str]) -> RadarTextDataset | None:
    """``split`` (val or test) for evaluation; None for shards without an index (no split is known)."""
    if data.kind == "shards" and not data.indexed:
        return None
    return RadarTextDataset(data, split, cfg.clip_length, train=False, skip_bad=cfg.skip_bad, exclude=excluded,
                            decoded_cache=cfg.decoded_cache)


def _restore(r: Run, ckpt: Path) -> None:
    weights, saved = load_checkpoint(ckpt, map_location=r.device)
    r.model.load_state_dict(weights)
    r.optimizer.load_state_dict(saved["optimizer"])
    r.scheduler.load_state_dict(saved["scheduler"])
    r.scaler.load_state_dict(saved["scaler"])
    _set_rng_state(saved["rng"])
    r.state = TrainState.from_dict(saved["state"])
    r.last_ckpt = ckpt
    r.console.print(f"resumed from {ckpt} (epoch {r.state.epoch}, step {r.state.global_step})")


# ---------------------------------------------------------------------- one epoch, one step
def train_one_epoch(r: Run, on_step) -> None:
    """Optimizer steps from the saved batch position to the epoch's last whole accumulation group
    (or the end of the data, when a stream without an index holds fewer samples than announced),
    or until ``max_steps``. ``on_step(loss=, sps=, epoch=)`` reports progress."""
    cfg, state = r.cfg, r.state
    epoch = state.epoch
    r.model.train()
    t0, seen, window, group = time.perf_counter(), 0, [], []
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
        on_step(loss=window[-1]["loss_total"], sps=sps, epoch=epoch)
        epoch_done = state.batch_in_epoch >= r.batches_per_epoch
        if state.global_step % cfg.log_every == 0 or epoch_done or r.stop_requested():
            mean = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
            r.logger.log(state.global_step, {**mean, "epoch": epoch, "lr": r.scheduler.get_last_lr()[0],
                                                "samples_per_s": sps})
            window = []
        if state.global_step % cfg.checkpoint_every == 0:
            r.last_ckpt = _checkpoint(r) or r.last_ckpt
        if r.stop_requested():
            return
    if state.batch_in_epoch < r.batches_per_epoch:  # the data ended first (only streams without an index)
        if r.dist.is_main:
            r.console.print(f"[yellow]epoch {epoch}: the data ended after {state.batch_in_epoch} of "
                            f"{r.batches_per_epoch} micro-batches (--train-num-samples is larger than the shards)")
        state.batch_in_epoch = r.batches_per_epoch


def _lockstep(r: Run, batches):
    """Micro-batches cut to the smallest rank's (a clip dropped at load time by --skip-bad would
    otherwise leave ranks with unequal batches, which the feature gather forbids); the data ends on
    every rank as soon as it ends on one (shards need not split evenly)."""
    batches = usable_batches(batches, " (leave bad clips out with --skip-bad)")
    while True:
        with phase("loading"):
            batch = next(batches, None)
        n = -1 if batch is None else len(batch.get("captions", ()))
        keep = r.dist.min_across_ranks(n)
        if keep < 0:
            return
        if keep == n:
            yield batch
            continue
        per_row = (k for k, v in batch.items()
                   if (torch.is_tensor(v) or isinstance(v, list)) and not k.startswith("negative_"))
        out = {**batch, **{k: batch[k][:keep] for k in per_row}}  # order negatives stay: extra negatives only
        out["skipped"] = batch["skipped"] + n - keep
        yield out if keep else {"skipped": out["skipped"]}


def optimizer_step(r: Run, group: list[dict]) -> dict[str, float]:
    """One optimizer step on ``group`` (``accum_steps`` micro-batches). With several micro-batches the
    features of all are computed first without gradients, then each micro-batch is recomputed with
    gradients against the others' cached features (same RNG draws): the gradient of the loss over
    the whole group, as if it were one batch (open_clip's ``accum_freq``, with the loss's own
    parameters counted once)."""
    group = [{k: v.to(r.device) if torch.is_tensor(v) else v for k, v in b.items()} for b in group]
    if len(group) == 1:
        with r.autocast():
            out = r.train_model(group[0])
        _backward(r, out)
    else:
        out = _accumulate(r, group)
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
    return {k: float(v.detach()) for k, v in out.items() if torch.is_tensor(v) and v.dim() == 0}


def _accumulate(r: Run, group: list[dict]) -> dict:
    ids = torch.cat([b["sample_ids"] for b in group])
    rng, cached = [], []
    with torch.no_grad(), r.autocast():
        for b in group:
            rng.append(_rng_state())
            cached.append(r.train_model(b, return_features=True))
    after = _rng_state()
    for j, b in enumerate(group):
        _set_rng_state(rng[j])  # the same dropout draws as the cached pass
        with r.dist.no_sync(r.train_model, last=j == len(group) - 1):
            with r.autocast():
                feats = r.train_model(b, return_features=True)
                out = r.model.losses(cat_features([feats if i == j else c for i, c in enumerate(cached)]), ids)
            _backward(r, out)
    _set_rng_state(after)
    for p in r.model.loss_parameters():  # every pass added the whole loss's gradient to these
        if p.grad is not None:
            p.grad /= len(group)
    return out


def _backward(r: Run, out: dict) -> None:
    loss = out["loss_total"]
    if not torch.isfinite(loss.detach()):
        raise NonFiniteLoss(f"loss became {float(loss.detach())} at step {r.state.global_step + 1} "
                            f"(epoch {r.state.epoch})")
    with phase("backward"):
        r.scaler.scale(loss).backward()


# ---------------------------------------------------------------------- validation and test
def end_epoch(r: Run, console: Console) -> None:
    """Close the epoch: validation on rank 0, the best model by mean validation R@1 kept in ``best/``."""
    epoch = r.state.epoch
    r.state.epoch, r.state.batch_in_epoch = epoch + 1, 0
    if not r.dist.is_main:
        return
    if r.val_ds is None:
        console.print(f"epoch {epoch}: no validation (shards without an index.json have no known val split)")
        return
    metrics = validate(r.model, r.val_ds, r.cfg.batch_size)
    r1 = (metrics["text_to_radar"]["R@1"] + metrics["radar_to_text"]["R@1"]) / 2
    r.logger.log(r.state.global_step, {"epoch": epoch, **{f"val_{k}": v for k, v in metrics["flat"].items()}})
    if r.state.best_r1 is None or r1 > r.state.best_r1:
        r.state.best_r1 = r1
        r.model.save_pretrained(r.run_dir / "best")
    console.print(f"epoch {epoch}: val loss {metrics['flat']['loss_total']:.3f}, "
                  f"R@1 t2r {metrics['text_to_radar']['R@1']:.1f} r2t {metrics['radar_to_text']['R@1']:.1f} "
                  f"(best {r.state.best_r1:.1f})")


@torch.no_grad()
def validate(model: SeqClip, val_ds: RadarTextDataset, batch_size: int) -> dict:
    """Validation loss (first caption of each clip, batches of ``batch_size``) and full-gallery retrieval."""
    model.eval()
    device = next(model.parameters()).device
    losses = []
    for batch in DataLoader(val_ds, batch_size=batch_size, shuffle=False, collate_fn=collate):
        if "captions" not in batch or len(batch["captions"]) < 2:
            continue
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        out = model(batch)
        losses.append({k: float(v.detach()) for k, v in out.items() if torch.is_tensor(v) and v.dim() == 0})
    metrics = split_retrieval(model, val_ds, batch_size)
    flat = {k: float(np.mean([x[k] for x in losses])) for k in losses[0]} if losses else {"loss_total": float("nan")}
    flat.update({f"{d}_{k}": v for d, m in metrics.items() for k, v in m.items()})
    model.train()
    return {**metrics, "flat": flat}


def final_test(r: Run) -> dict:
    """The run's summary; on rank 0 with ``eval_test``, test retrieval of ``best/`` (or of the last
    weights when no validation ran)."""
    cfg, state = r.cfg, r.state
    summary = {"run": str(cfg.out), "steps": state.global_step, "epochs": state.epoch,
               "best_val_r1": state.best_r1, "skipped_clips": state.skipped, "excluded_clips": len(r.excluded),
               "data": r.data.spec}
    if state.skipped:
        r.console.print(f"[yellow]skipped {state.skipped} clip(s) that failed to load (--skip-bad)")
    if not (r.dist.is_main and cfg.eval_test):
        return summary
    test_ds = _eval_split(cfg, r.data, "test", r.excluded)
    if test_ds is None:
        r.console.print("no test split: shards without an index.json (evaluate with `seqclip eval --data ...`)")
        return summary
    best = r.run_dir / "best"
    model = SeqClip.from_pretrained(best, map_location=r.device).to(r.device) if best.is_dir() else r.model
    summary.update(test=split_retrieval(model, test_ds, cfg.batch_size), test_clips=len(test_ds),
                   test_model="best" if best.is_dir() else "latest")
    return summary
