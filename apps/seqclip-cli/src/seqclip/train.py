"""``seqclip train``: the training loop (plain function; the CLI is a thin layer over it)."""

from __future__ import annotations

import json
import os
import time
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import tomli_w
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch.utils.data import DataLoader

from .checkpoint import load_checkpoint, resolve_resume, save_checkpoint
from .config import DEFAULT_TEXT_MODEL, GRANULARITIES, LOSSES, SIMILARITIES, SeqClipConfig
from .data import EpochSampler, RadarTextDataset, collate
from .evaluate import split_retrieval
from .model import SeqClip
from .optim import param_groups, warmup_cosine

__all__ = ["TrainConfig", "train", "TrainingError", "load_train_config", "default_dataset", "resolve_device"]

PRECISIONS = ("fp32", "bf16", "fp16")


class TrainingError(RuntimeError):
    """A run that cannot continue (bad configuration, diverged loss); the message says why."""


@dataclass
class TrainConfig:
    data: str | None = None  # dataset directory; None = the default synthetic dataset (cached)
    out: str = "runs/seqclip"  # run directory
    preset: str = "tiny"  # radar encoder preset
    epochs: int = 20
    batch_size: int = 32
    lr: float = 5e-4  # radar side; the text encoder uses lr * text_lr_mult
    text_lr_mult: float = 0.05
    weight_decay: float = 0.05
    warmup_steps: int = 30
    similarity: str = "combined"  # sequence similarity, or none
    loss: str = "clip"  # clip | siglip
    seq_weight: float = 0.5
    granularity: str = "time"  # time | token radar sequences
    precision: str = "fp32"  # fp32 | bf16 | fp16 (CUDA only)
    accum_steps: int = 1
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    text_model: str = DEFAULT_TEXT_MODEL
    freeze_text: bool = False
    skip_bad: bool = False  # skip unreadable clips (counted) instead of stopping
    clip_length: int = 256  # frames per training sample after crop / pad (multiple of 16, <= 496)
    workers: int = 0  # DataLoader workers
    checkpoint_every: int = 100  # optimizer steps between checkpoints (and at every epoch end)
    keep_last: int = 3  # checkpoints kept
    log_every: int = 10  # optimizer steps between log lines
    max_steps: int = 0  # stop after this many optimizer steps (0: run all epochs)
    eval_test: bool = True  # report test retrieval with the best checkpoint at the end
    synth_clips: int = 320  # default dataset: number of clips
    synth_max_frames: int = 256  # default dataset: longest clip
    synth_workers: int = 2  # default dataset: generator processes
    resume: str | None = None  # latest | a checkpoint directory

    def __post_init__(self) -> None:
        checks = {"similarity": SIMILARITIES, "loss": LOSSES, "granularity": GRANULARITIES, "precision": PRECISIONS,
                  "device": ("auto", "cpu", "cuda")}
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise TrainingError(f"{name} must be one of {list(allowed)}, got {getattr(self, name)!r}")
        for name in ("epochs", "batch_size", "accum_steps"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.clip_length % 16 or not 16 <= self.clip_length <= 496:
            raise TrainingError(f"clip_length must be a multiple of 16 in [16, 496], got {self.clip_length}")

    def model_config(self) -> SeqClipConfig:
        return SeqClipConfig(
            preset=self.preset, text_model=self.text_model, freeze_text=self.freeze_text,
            use_sequence_similarity=self.similarity != "none",
            sequence_similarity_type=self.similarity if self.similarity != "none" else "combined",
            sequence_similarity_weight=self.seq_weight, sequence_granularity=self.granularity, loss=self.loss)


def load_train_config(path: str | Path | None, overrides: dict) -> TrainConfig:
    """A TOML file (keys = TrainConfig fields, optionally under [train]) with CLI overrides on top."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise TrainingError(f"config file not found: {path}")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise TrainingError(f"{path}: invalid TOML ({err})") from None
        data = data.get("train", data)
        known = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainingError(f"{path}: unknown key(s) {unknown}; known keys: {sorted(known)}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainConfig(**data)
    except TypeError as err:
        raise TrainingError(str(err)) from None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available")
    return torch.device(name)


def default_dataset(cfg: TrainConfig, console: Console) -> Path:
    """The default synthetic dataset, generated once into the cache (``SEQCLIP_CACHE`` or ~/.cache)."""
    import radar_synth

    cache = Path(os.environ.get("SEQCLIP_CACHE", Path.home() / ".cache" / "seqclip"))
    # keyed by the generator's version: a new radar-synth may render the same seed differently
    target = cache / f"synth-{radar_synth.__version__}-{cfg.synth_clips}clips-{cfg.synth_max_frames}f-seed{cfg.seed}"
    if (target / "manifest.jsonl").is_file():
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


class _Logger:
    """metrics.jsonl + TensorBoard event files, rank 0 only."""

    def __init__(self, run: Path, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.file = open(run / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            self.tb = SummaryWriter(str(run / "tensorboard"))

    def log(self, step: int, values: dict) -> None:
        if not self.enabled:
            return
        self.file.write(json.dumps({"step": step, **values}) + "\n")
        self.file.flush()
        for k, v in values.items():
            if isinstance(v, (int, float)) and k not in ("epoch",):
                self.tb.add_scalar(k, v, step)

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            self.tb.close()


def train(cfg: TrainConfig, console: Console | None = None, distributed=None) -> dict:
    """Train, validate each epoch, keep the best checkpoint, report test retrieval. Returns a summary."""
    from .distributed import DistContext

    console = console or Console()
    dist = distributed or DistContext.single()
    device = dist.device if distributed else resolve_device(cfg.device)
    if cfg.precision == "fp16" and device.type != "cuda":
        raise TrainingError("--precision fp16 needs CUDA (use bf16 on CPU)")
    torch.manual_seed(cfg.seed)
    run = Path(cfg.out)
    data_dir = Path(cfg.data) if cfg.data else default_dataset(cfg, console) if dist.is_main else None
    if data_dir is None:
        data_dir = Path(dist.broadcast_object(None))
    elif distributed:
        dist.broadcast_object(str(data_dir))
    if not data_dir.is_dir():
        raise TrainingError(f"data directory not found: {data_dir}")
    if dist.is_main:
        run.mkdir(parents=True, exist_ok=True)
        resolved = {k: v for k, v in asdict(cfg).items() if v is not None and k != "resume"}
        resolved["data"] = str(data_dir)
        (run / "config.toml").write_text(tomli_w.dumps({"train": resolved}), encoding="utf-8")
    train_ds = RadarTextDataset(data_dir, "train", cfg.clip_length, train=True, seed=cfg.seed, skip_bad=cfg.skip_bad)
    val_ds = RadarTextDataset(data_dir, "val", cfg.clip_length, train=False, skip_bad=cfg.skip_bad)
    model = SeqClip(cfg.model_config()).to(device)
    optimizer = torch.optim.AdamW(param_groups(model, cfg.lr, cfg.weight_decay, cfg.text_lr_mult))
    global_batch = cfg.batch_size * dist.world_size
    batches_per_epoch = len(train_ds) // global_batch
    if batches_per_epoch < cfg.accum_steps:
        raise TrainingError(f"{len(train_ds)} training clips give {batches_per_epoch} batches of {global_batch}; "
                            f"need at least accum_steps={cfg.accum_steps} (lower --batch-size)")
    steps_per_epoch = batches_per_epoch // cfg.accum_steps
    total_steps = steps_per_epoch * cfg.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(cfg.warmup_steps, total_steps))
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
    state = {"epoch": 0, "batch_in_epoch": 0, "global_step": 0, "best_r1": -1.0, "skipped": 0}
    if cfg.resume:
        ckpt = resolve_resume(run, cfg.resume)
        weights, saved = load_checkpoint(ckpt, map_location=device)
        model.load_state_dict(weights)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        _set_rng_state(saved["rng"])
        state = saved["state"]
        console.print(f"resumed from {ckpt} (epoch {state['epoch']}, step {state['global_step']})")
    train_model = dist.wrap(model)
    sampler = EpochSampler(len(train_ds), cfg.seed)
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.precision)
    logger = _Logger(run, dist.is_main)
    last_ckpt = None

    def checkpoint() -> Path | None:
        if not dist.is_main:
            return None
        trainer_state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                         "scaler": scaler.state_dict(), "rng": _rng_state(), "state": dict(state)}
        return save_checkpoint(run, model, trainer_state, cfg.keep_last)

    progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[sps]:.1f} samples/s"),
                        TimeRemainingColumn(), console=console, disable=not dist.is_main, transient=False)
    history = []
    try:
        with progress:
            task = progress.add_task("train", total=total_steps, completed=state["global_step"], epoch=state["epoch"],
                                     loss=float("nan"), sps=0.0)
            while state["epoch"] < cfg.epochs:
                epoch = state["epoch"]
                train_ds.set_epoch(epoch)
                sampler.set_epoch(epoch, start=state["batch_in_epoch"] * global_batch)
                loader = DataLoader(train_ds, batch_size=cfg.batch_size, sampler=dist.shard(sampler),
                                    collate_fn=collate, num_workers=cfg.workers, drop_last=True,
                                    generator=torch.Generator().manual_seed(cfg.seed))
                model.train()
                t0, seen, window = time.perf_counter(), 0, []
                for batch in loader:
                    if state["batch_in_epoch"] >= batches_per_epoch:
                        break
                    state["skipped"] += batch.get("skipped", 0)
                    if "captions" not in batch:
                        state["batch_in_epoch"] += 1
                        continue
                    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
                    with torch.autocast(device.type, dtype=autocast_dtype or torch.float32,
                                        enabled=autocast_dtype is not None):
                        out = train_model(batch)
                    loss = out["loss_total"]
                    if not torch.isfinite(loss.detach()):
                        where = f"the last good checkpoint is {last_ckpt}" if last_ckpt else "no checkpoint was written yet"
                        raise TrainingError(f"loss became {float(loss.detach())} at step {state['global_step'] + 1} "
                                            f"(epoch {epoch}); stopping, {where}")
                    scaler.scale(loss / cfg.accum_steps).backward()
                    window.append({k: float(v.detach()) for k, v in out.items() if torch.is_tensor(v) and v.dim() == 0})
                    seen += len(batch["captions"]) * dist.world_size
                    state["batch_in_epoch"] += 1
                    if state["batch_in_epoch"] % cfg.accum_steps:
                        continue
                    if cfg.grad_clip > 0:
                        scaler.unscale_(optimizer)
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                    scaler.step(optimizer)
                    scaler.update()
                    optimizer.zero_grad(set_to_none=True)
                    scheduler.step()
                    model.logit_scale.clamp_()
                    state["global_step"] += 1
                    sps = seen / max(time.perf_counter() - t0, 1e-9)
                    progress.update(task, advance=1, loss=window[-1]["loss_total"], sps=sps, epoch=epoch)
                    last_step = bool(cfg.max_steps and state["global_step"] >= cfg.max_steps)
                    if (state["global_step"] % cfg.log_every == 0 or state["batch_in_epoch"] == batches_per_epoch
                            or last_step):
                        mean = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
                        logger.log(state["global_step"], {**mean, "epoch": epoch, "lr": scheduler.get_last_lr()[0],
                                                          "samples_per_s": sps})
                        window = []
                    if state["global_step"] % cfg.checkpoint_every == 0:
                        last_ckpt = checkpoint() or last_ckpt
                    if last_step:
                        break
                stop = bool(cfg.max_steps and state["global_step"] >= cfg.max_steps)
                if not stop or state["batch_in_epoch"] >= batches_per_epoch:
                    state["epoch"], state["batch_in_epoch"] = epoch + 1, 0
                    metrics = _validate(model, val_ds, cfg) if dist.is_main else {}
                    if dist.is_main:
                        r1 = (metrics["text_to_radar"]["R@1"] + metrics["radar_to_text"]["R@1"]) / 2
                        history.append({"epoch": epoch, **{f"val_{k}": v for k, v in metrics["flat"].items()}})
                        logger.log(state["global_step"], history[-1])
                        if r1 > state["best_r1"]:
                            state["best_r1"] = r1
                            model.save_pretrained(run / "best")
                        progress.console.print(f"epoch {epoch}: val loss {metrics['flat']['loss_total']:.3f}, "
                                               f"R@1 t2r {metrics['text_to_radar']['R@1']:.1f} "
                                               f"r2t {metrics['radar_to_text']['R@1']:.1f} (best {state['best_r1']:.1f})")
                last_ckpt = checkpoint() or last_ckpt
                dist.barrier()
                if stop:
                    break
    finally:
        logger.close()
    summary = {"run": str(run), "steps": state["global_step"], "epochs": state["epoch"], "best_val_r1": state["best_r1"],
               "skipped_clips": state["skipped"], "data": str(data_dir)}
    if state["skipped"]:
        console.print(f"[yellow]skipped {state['skipped']} bad clip(s) (--skip-bad)")
    if dist.is_main and cfg.eval_test and (run / "best").is_dir():
        best = SeqClip.from_pretrained(run / "best", map_location=device).to(device)
        test_ds = RadarTextDataset(data_dir, "test", cfg.clip_length, train=False, skip_bad=cfg.skip_bad)
        summary["test"] = split_retrieval(best, test_ds)
        summary["test_clips"] = len(test_ds)
    return summary


@torch.no_grad()
def _validate(model: SeqClip, val_ds: RadarTextDataset, cfg: TrainConfig) -> dict:
    """Validation loss (first caption of each clip, batches of ``batch_size``) and full-gallery retrieval."""
    model.eval()
    losses = []
    for batch in DataLoader(val_ds, batch_size=cfg.batch_size, shuffle=False, collate_fn=collate):
        if "captions" not in batch or len(batch["captions"]) < 2:
            continue
        device = next(model.parameters()).device
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        out = model(batch)
        losses.append({k: float(v.detach()) for k, v in out.items() if torch.is_tensor(v) and v.dim() == 0})
    metrics = split_retrieval(model, val_ds, cfg.batch_size)
    flat = {k: float(np.mean([x[k] for x in losses])) for k in losses[0]} if losses else {"loss_total": float("nan")}
    flat.update({f"{d}_{k}": v for d, m in metrics.items() for k, v in m.items()})
    model.train()
    return {**metrics, "flat": flat}
