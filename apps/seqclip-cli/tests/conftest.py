"""Fixtures shared by the app's test modules (a module-scoped instance per module, as before)."""

import pytest
import torch
from seqclip_fixtures import make_dataset

from seqclip import SeqClip, SeqClipConfig


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("data") / "d")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "model"
    SeqClip(SeqClipConfig(similarity="pooled", clip_length=48)).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SeqClip(SeqClipConfig(similarity="combined"))  # every component of the sequence similarity
