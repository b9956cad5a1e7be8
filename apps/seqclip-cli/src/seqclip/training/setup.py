"""Setting a run up (open_clip's ``main.py``): device, data, model, optimizer and resume, checked
before anything is written, into one typed ``Run`` that ``train.py`` advances step by step."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch
from rich.console import Console

from radar_text_data.check import format_problems
from radar_text_data.errors import DataError
from radar_text_data.source import DataLocation, resolve_data
from radar_views import output_lock

from ..config import DEFAULT_BATCH, TrainConfig
from ..data import EpochSampler, RadarTextDataset, twin_pairs
from ..distributed import DistContext, resolve_device
from ..errors import TrainingError, UserError
from ..evaluation.report import few_clips_warning
from ..hardware import precision_note
from ..model.pretrained import load_weights
from ..model.seqclip import SeqClip
from ..model.text import cut_captions_note, record_texts
from ..rundir import (
    check_run_dir,
    checkpoint_model,
    load_trainer_state,
    open_run_dir,
    read_config_toml,
    resolve_resume,
)
from .guard import NonFiniteGuard
from .init_weights import start_from
from .logger import MetricsLogger
from .optim import param_groups, warmup_cosine
from .rng import set_rng_state
from .selection import label_classes
from .stream import ShardStream, TrainData, default_workers
from .text_cache import start_text_cache

__all__ = ["Run", "TrainState", "setup", "eval_split", "default_dataset", "AUTOCAST_DTYPES"]

AUTOCAST_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}  # --precision -> dtype


def default_dataset(cfg: TrainConfig, console: Console) -> Path:
    """The default synthetic dataset, generated once into the cache (``SEQCLIP_CACHE`` or ~/.cache)."""
    import radar_synth
    from radar_text_data import MANIFEST

    cache = Path(os.environ.get("SEQCLIP_CACHE", Path.home() / ".cache" / "seqclip"))
    # keyed by the generator's version: a new radar-synth may render the same seed differently
    n, held = cfg.synth_clips, cfg.synth_held_out
    target = cache / f"synth-{radar_synth.__version__}-{n}clips-{held}held-{cfg.synth_max_frames}f-seed{cfg.seed}"
    if (target / MANIFEST).is_file():
        console.print(f"using the cached synthetic dataset {target}")
        return target
    with output_lock(target, wait=True):  # two runs at once: the second waits for the first's dataset
        if not (target / MANIFEST).is_file():
            console.print(
                f"generating the default synthetic dataset ({n} clips: {held} val, {held} test) into {target} (once)"
            )
            radar_synth.generate_dataset(
                target,
                n,
                split_fractions=((n - 2 * held) / n, held / n, held / n),
                seed=cfg.seed,
                workers=cfg.synth_workers,
                max_frames=cfg.synth_max_frames,
                overwrite=target.exists(),
            )
    return target


@dataclass
class TrainState:
    """Where a run is, saved in every checkpoint (as a dict under ``trainer_state["state"]``); batch
    positions always sit on optimizer-step boundaries."""

    epoch: int = 0
    batch_in_epoch: int = 0  # micro-batches of the current epoch already used
    global_step: int = 0  # optimizer steps taken
    best_r1: float | None = None  # best mean validation R@1 so far (None: no validation yet)
    best_accuracy: float | None = None  # on a label dataset: best validation class accuracy (%), which picks best/
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
    train_data: TrainData  # or device_data.DeviceData (--data-on-device): the same batches
    val_ds: RadarTextDataset | None  # None: shards without an index have no validation split
    val_classes: tuple | None  # a label dataset's classes (every val clip has one label): best/ by class accuracy
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
    guard: NonFiniteGuard | None = None  # NaN / Inf losses found without a sync per step (None with fp16's scaler)
    created_run_dir: bool = False  # this start made run_dir (so a failure before any weights removes it)
    cuda_graphs: bool = False  # the compiled step replays CUDA graphs (training.compiled)

    @property
    def global_batch(self) -> int:
        return self.cfg.batch_size * self.dist.world_size

    @property
    def batches_per_epoch(self) -> int:
        """Micro-batches an epoch uses: whole accumulation groups only (the remainder is dropped)."""
        return self.steps_per_epoch * self.cfg.accum_steps

    def autocast(self):
        dtype = AUTOCAST_DTYPES[self.cfg.precision or "fp32"]  # resolved by setup(); fp32 turns autocast off
        return torch.autocast(self.device.type, dtype=dtype, enabled=dtype != torch.float32)

    def stop_requested(self) -> bool:
        return bool(self.cfg.max_steps and self.state.global_step >= self.cfg.max_steps)


def setup(cfg: TrainConfig, console: Console, dist: DistContext) -> Run:
    """Everything a run needs, checked before anything is written: a start that fails leaves no
    new directory and never rewrites an existing run's files."""
    device = dist.device if dist.initialized else resolve_device(cfg.device)
    # the device's defaults of what was left unset, recorded in config.toml as used
    recorded = read_config_toml(Path(cfg.out)) if cfg.resume else None  # what the resumed run trained
    cfg = replace(
        cfg.text_layers_on(device.type, recorded).precision_on(device.type, recorded),
        batch_size=cfg.batch_size or DEFAULT_BATCH[device.type],
        compile=device.type == "cuda" if cfg.compile is None else cfg.compile,
    )
    if cfg.precision == "fp16" and device.type != "cuda":
        raise TrainingError("--precision fp16 needs CUDA (use bf16 on CPU)")
    if dist.is_main and (line := precision_note(device.type, cfg.precision)):
        console.print(line, highlight=False)
    model_cfg = cfg.model_config()  # an unknown preset fails here, before any data is read
    check_run_dir(cfg)
    ckpt = resolve_resume(Path(cfg.out), cfg.resume) if cfg.resume else None
    torch.manual_seed(cfg.seed)
    data = _on_main(dist, lambda: _locate(cfg, console))
    excluded, angle = _on_main(dist, lambda: _check_data(cfg, data, console))
    model_cfg = replace(model_cfg, angle=angle)  # the views the model reads
    if cfg.data_on_device is None:  # on when the training split fits: rank 0 decides for all
        from .device_data import fits_on_device

        cfg = replace(cfg, data_on_device=_on_main(dist, lambda: fits_on_device(data, device)))
    train_data = _train_data(cfg, data, dist, device, excluded)
    val_ds = eval_split(cfg, data, "val", excluded)
    if model_cfg.angle is None and val_ds is not None:  # shards stream: their val split's records say it
        model_cfg = replace(model_cfg, angle=val_ds.angle)
    steps_per_epoch = train_data.samples_per_rank // cfg.batch_size // cfg.accum_steps
    if steps_per_epoch < 1:
        raise TrainingError(
            f"{train_data.samples_per_rank * dist.world_size} training clips give no optimizer step of "
            f"{cfg.accum_steps} x {cfg.batch_size * dist.world_size} clips; lower --batch-size or "
            f"--accum-steps"
        )
    model = SeqClip(model_cfg).to(device)
    if cfg.init and ckpt is None:  # a resumed run has its own weights
        start_from(model, cfg.init, console if dist.is_main else None)
    if dist.is_main and data.kind == "directory":  # shards stream: their captions are not known up front
        _warn_cut_captions(model, data, console)
    if dist.is_main and val_ds is not None and (few := few_clips_warning(len(val_ds), "validation")):
        console.print(f"[yellow]{few}[/] (the best checkpoint is chosen by it)", highlight=False)
    if dist.is_main and cfg.data_on_device:
        console.print(train_data.describe(), highlight=False)
    if cfg.text_cached:
        start_text_cache(model, cfg, data, excluded, console if dist.is_main else None)
    if cfg.data_on_device:  # captions tokenised once, as the views are decoded once
        model.cache_tokens()
    optimizer = torch.optim.AdamW(
        param_groups(model, cfg.lr, cfg.weight_decay, cfg.text_lr_mult), fused=True
    )  # one kernel for all parameters; skips a NaN step on the device
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(cfg.warmup_steps, steps_per_epoch * cfg.epochs)
    )
    train_model, cuda_graphs = dist.wrap(model), False
    if cfg.compile:
        from .compiled import compile_step

        train_model, cuda_graphs = compile_step(model, train_model, cfg, device, dist.world_size, data)
    r = Run(
        cfg,
        dist,
        device,
        console,
        data,
        excluded,
        train_data,
        val_ds,
        label_classes(val_ds),
        model,
        train_model,
        optimizer,
        scheduler,
        torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16"),
        TrainState(),
        steps_per_epoch,
    )
    r.guard, r.cuda_graphs = None if r.scaler.is_enabled() else NonFiniteGuard(device), cuda_graphs
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
        except (UserError, DataError, FileNotFoundError) as err:
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


def _check_data(cfg: TrainConfig, data: DataLocation, console: Console) -> tuple[list[str], str | None]:
    """Ids of clips whose headers fail the check, found before the first step (any -> error unless
    ``skip_bad``), and what the third view of the clips holds (``ClipRecord.angle``; clips of two angles
    are refused). Content (NaN) is checked when a clip is loaded; shards are checked as they stream, and
    their angle is None (their val split's records say it)."""
    from radar_text_data import check_headers, read_manifest, views_angle

    if data.kind != "directory":
        return [], None
    records = read_manifest(data.root)
    bad = check_headers(data.root, records, workers=min(8, os.cpu_count() or 1))
    if bad and not cfg.skip_bad:
        raise TrainingError(
            f"{len(bad)} of {len(records)} clips in {data.spec} cannot be used (fix them, or leave "
            f"them out with --skip-bad):\n{format_problems([p for _, p in bad])}"
        )
    angle = views_angle(records, data.spec)
    if bad:
        console.print(
            f"[yellow]--skip-bad: leaving out {len(bad)} of {len(records)} clips:[/]\n"
            f"{format_problems([p for _, p in bad])}",
            highlight=False,
        )
    return [r.id for r, _ in bad], angle


def _warn_cut_captions(model: SeqClip, data: DataLocation, console: Console) -> None:
    """One warning when the text tower would cut some of the dataset's captions (every split)."""
    from rich.markup import escape

    from radar_text_data import read_manifest

    note = cut_captions_note(
        model.tokenizer, record_texts(read_manifest(data.root)), model.config.max_text_length, data.spec
    )
    if note:
        console.print(f"[yellow]warning:[/] {escape(note)}", highlight=False)


def _train_data(
    cfg: TrainConfig, data: DataLocation, dist: DistContext, device: torch.device, excluded: list[str]
) -> TrainData:
    """The training split: map-style for a directory, streamed for shards (``--workers`` loader
    processes, persistent; pinned batches on CUDA)."""
    workers = default_workers(int(os.environ.get("LOCAL_WORLD_SIZE", "1"))) if cfg.workers is None else cfg.workers
    pin = device.type == "cuda"
    if data.kind == "shards":
        if cfg.data_on_device:
            raise TrainingError("--data-on-device needs a dataset directory (shards are streamed)")
        if cfg.twin_batches:
            raise TrainingError("--twin-batches needs a dataset directory (shards are streamed in shuffled order)")
        stream = ShardStream(
            data,
            "train",
            cfg.clip_length,
            cfg.seed,
            dist.rank,
            dist.world_size,
            workers,
            cfg.skip_bad,
            cfg.positives,
            cfg.order_negatives,
        )
        per_rank = stream.samples_per_rank()
        if per_rank is None:
            if cfg.train_num_samples is None:
                raise TrainingError(f"--data {data.spec}: shards without an index.json need --train-num-samples")
            per_rank = cfg.train_num_samples // dist.world_size
        return TrainData.streamed(stream, cfg.batch_size, per_rank, workers, pin)
    ds = RadarTextDataset(
        data,
        "train",
        cfg.clip_length,
        train=True,
        seed=cfg.seed,
        skip_bad=cfg.skip_bad,
        exclude=excluded,
        positives=cfg.positives,
        order_negatives=cfg.order_negatives,
        decoded_cache=cfg.decoded_cache,
    )
    sampler = EpochSampler(
        len(ds),
        cfg.seed,
        twins=twin_pairs(ds.records) if cfg.twin_batches else (),
        batch=cfg.batch_size * dist.world_size,
    )
    if cfg.data_on_device:
        from .device_data import DeviceData

        return DeviceData(
            ds, sampler, lambda order: order[dist.rank :: dist.world_size], cfg.batch_size, dist.world_size, device
        )
    return TrainData.mapped(ds, sampler, dist.shard(sampler), cfg.batch_size, dist.world_size, workers, pin)


def eval_split(cfg: TrainConfig, data: DataLocation, split: str, excluded: list[str]) -> RadarTextDataset | None:
    """``split`` (val or test) for evaluation; None for shards without an index (no split is known)."""
    if data.kind == "shards" and not data.indexed:
        return None
    return RadarTextDataset(
        data,
        split,
        cfg.clip_length,
        train=False,
        skip_bad=cfg.skip_bad,
        exclude=excluded,
        decoded_cache=cfg.decoded_cache,
    )


def _restore(r: Run, ckpt: Path) -> None:
    saved = load_trainer_state(ckpt, map_location=r.device)
    r.model.load_state_dict(load_weights(checkpoint_model(ckpt), map_location=r.device))
    r.optimizer.load_state_dict(saved["optimizer"])
    r.scheduler.load_state_dict(saved["scheduler"])
    r.scaler.load_state_dict(saved["scaler"])
    set_rng_state(saved["rng"])
    r.state = TrainState.from_dict(saved["state"])
    r.last_ckpt = ckpt
    r.console.print(f"resumed from {ckpt} (epoch {r.state.epoch}, step {r.state.global_step})")
