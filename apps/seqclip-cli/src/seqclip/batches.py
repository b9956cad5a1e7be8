"""What the data path hands a step, as types: a dataset ``Item``, a ``Batch`` of items
(``data.collate``) and a bad clip's stand-in (``BadClip``). They are plain dicts at run time
(loader workers, collation and DDP take them as they are); their keys are spelled here once."""

# no ``from __future__ import annotations``: Python 3.11 reads ``NotRequired`` / ``Required`` only from
# evaluated annotations (``__required_keys__``)

from typing import Final, NotRequired, TypedDict, final

from torch import Tensor

__all__ = ["BAD_CLIP", "ItemText", "Item", "BadClip", "Batch", "ROW_IDS"]

BAD_CLIP: Final = "bad_clip"  # key of an item (and a batch) that carries a bad clip's message instead of data
ROW_IDS: Final = ("positions", "sample_ids", "sequence_ids")  # a batch's per-row id tensors [b]


class ItemText(TypedDict):
    """An item's text side (``data.item_text``)."""

    caption: str
    index: int  # the clip's position in its split
    sequence_id: int  # id of the clip's activity sequence (negative and unique without segments)
    sample_id: int  # items with one sample id are positives of each other
    caption_reversed: NotRequired[str]  # the caption's order-reversed wording (order negatives)
    reversed_sequence_id: NotRequired[int]  # id of the sequence that wording describes


@final
class Item(ItemText):
    """One training or evaluation item (``data.make_item``): a crop of ``L`` frames and a caption."""

    range_time: Tensor  # [bins, L]
    doppler_time: Tensor  # [bins, L]
    azimuth_time: Tensor  # [bins, L]
    mask: Tensor  # [L], True: a real frame


@final
class BadClip(TypedDict):
    """A bad clip's one-line message, passed from a loader worker to the main process."""

    bad_clip: str


@final
class Batch(TypedDict, total=False):
    """Stacked items (``data.collate``), or a batch built by hand for ``SeqClip`` (the views and
    ``captions``). ``collate`` always sets ``skipped``: it alone is there when every clip of the batch
    was skipped, and a bad clip's batch holds its ``bad_clip`` message instead of data."""

    skipped: int  # clips left out of this batch (``--skip-bad``)
    bad_clip: str
    range_time: Tensor  # [b, bins, L]
    doppler_time: Tensor  # [b, bins, L]
    azimuth_time: Tensor  # [b, bins, L]
    mask: Tensor  # [b, L]
    captions: list[str]  # b
    positions: Tensor  # [b]
    sample_ids: Tensor  # [b]
    sequence_ids: Tensor  # [b]
    captions_reversed: list[str]  # m order negatives: extra texts of the radar->text direction
    reversed_sequence_ids: Tensor  # [m]
