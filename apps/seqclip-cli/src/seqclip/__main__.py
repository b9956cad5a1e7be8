"""``python -m seqclip`` (what torchrun launches)."""

from .cli import main

main()
