"""What zero-shot recognition can be asked, standard library only (the CLI checks choices before
torch loads): where class prompts come from, and the calibration rules of generalised zero-shot
(``evaluation.calibration``) with what each reads from the validation split."""

from __future__ import annotations

from .errors import UserError

__all__ = [
    "PHRASE_TEMPLATES",
    "NAME_TEMPLATES",
    "PROMPT_SOURCES",
    "PROMPT_CHOICES",
    "AUTO",
    "PREFERRED_PROMPTS",
    "DEFAULT_PROMPTS",
    "CALIBRATIONS",
    "INDUCTIVE",
    "DEFAULT_CALIBRATION",
    "resolve_prompts",
    "descriptions_problem",
]

# a phrase completes "a person ..." (radar-synth's classes.json: "walks", "sits down")
PHRASE_TEMPLATES = ("a person {}.", "someone {}.", "a radar recording of a person who {}.", "the subject {}.")
# a bare class name (a text file, a dataset's labels: "sit down", "jumping jacks")
NAME_TEMPLATES = ("{}.", "a person doing the activity: {}.", "a radar recording of {}.", "the activity of {}.")

# names: the class name or phrase in templates (or the class's own prompts); descriptions: the class's
# descriptions of what the body does, used as they are; both: the two prompt sets, each averaged, weighted alike
PROMPT_SOURCES = ("names", "descriptions", "both")
AUTO = "auto"  # PREFERRED_PROMPTS when every candidate has descriptions, else names
PROMPT_CHOICES = (AUTO, *PROMPT_SOURCES)
PREFERRED_PROMPTS = "descriptions"  # chosen on validation (bench/open_vocab_benchmark.py --scale cpu, README)
DEFAULT_PROMPTS = AUTO

# rule -> what it reads from the validation split to set its constants
CALIBRATIONS: dict[str, str] = {
    "none": "nothing (raw scores)",
    "stacking": "labelled validation clips of seen and unseen classes (highest harmonic mean; needs unseen clips)",
    "seen-budget": "labelled validation clips of seen classes (largest constant keeping seen accuracy within 5 points)",
    "standardize": "unlabelled validation clips (each class's score standardised over them)",
    "standardize+seen-budget": "unlabelled validation clips, then labelled clips of seen classes",
}
INDUCTIVE = ("seen-budget", "standardize", "standardize+seen-budget")  # no unseen clip, no unseen label read
DEFAULT_CALIBRATION = "seen-budget"  # chosen on validation (bench/open_vocab_benchmark.py --scale cpu, README)


def resolve_prompts(source: str, described: bool) -> str:
    """The prompt source used: ``source``, or for ``auto`` the preferred one when every candidate
    has descriptions (``described``) and names otherwise."""
    if source not in PROMPT_CHOICES:
        raise UserError(f"prompts: must be one of {' | '.join(PROMPT_CHOICES)}, got {source!r}")
    if source != AUTO:
        return source
    return PREFERRED_PROMPTS if described else "names"


def descriptions_problem(source: str, classes, where: str) -> str | None:
    """The error, one line, when ``source`` takes prompts from descriptions and some of ``classes``
    (``ClassPrompts``) have none; None otherwise (``auto`` falls back to names instead)."""
    bare = [c.name for c in classes if not c.descriptions]
    if source in (AUTO, "names") or not bare:
        return None
    return (
        f"--prompts {source}: {where} gives no descriptions for {len(bare)} class(es): "
        f"{', '.join(bare[:5])}{' ...' if len(bare) > 5 else ''}"
    )
