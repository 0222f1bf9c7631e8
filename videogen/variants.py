"""Variants: one request swept along one dimension (seeds, models, aspect ratios, durations or prompts) into a batch.

The base request has already passed the form's validation. Each variant is that
request with one value changed, validated again for its own model, so a model
that takes other fields or other values is caught here, before anything is
sent. A variant that cannot be sent says why; the others are unaffected.

Prompts come as lines of text, one prompt a line, and every one of them runs
with the same seed: what differs between their videos is then the prompt alone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import catalog, seeds
from .text import shorten

#: What a batch can sweep, in the order the form offers them.
DIMENSIONS = ("seed", "model", "aspect_ratio", "duration", "prompt")
MIN_ITEMS, MAX_ITEMS = 2, 8
#: Characters of a prompt in a variant's label: enough to tell a batch's prompts apart at a glance.
PROMPT_LABEL_CHARS = 48


@dataclass(frozen=True)
class Variant:
    """One request of a batch: what sets it apart, and its body, or why it cannot be sent."""

    label: str
    body: dict[str, Any] | None = None
    problem: str | None = None
    dropped: tuple[str, ...] = field(default=())  # fields of the base request this model does not take

    @property
    def ok(self) -> bool:
        return self.body is not None


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


def seed_range(model: catalog.Model) -> tuple[int, int] | None:
    """The seeds drawn for `model` (as every drawn seed is, `seeds.seed_range`), or None when it takes no seed."""
    param = seeds.seed_param(model)
    if param is None:
        return None
    try:
        return seeds.seed_range(param)
    except ValueError:  # published bounds with no seed between them: nothing to vary
        return None


def draw_seeds(model: catalog.Model, count: int, *, avoid: Any = None, rng: random.Random | None = None) -> list[int]:
    """`count` different random seeds in the model's range (none equal to `avoid`)."""
    low, high = seed_range(model) or (0, seeds.SEED_MAX)
    rng = rng or random.SystemRandom()
    drawn: list[int] = []
    while len(drawn) < min(count, high - low + 1):
        seed = rng.randint(low, high)
        if seed not in drawn and (seed != avoid or high == low):
            drawn.append(seed)
    return drawn


def new_seed_request(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """`request` with a new random seed in the model's range; None for a model that takes no seed."""
    try:
        model = catalog.get(str(request.get("model")))
    except catalog.UnknownModelError:
        return None
    if seed_range(model) is None:
        return None
    (seed,) = draw_seeds(model, 1, avoid=request.get("seed"))
    return {**request, "seed": seed}


def offered(model: catalog.Model) -> list[str]:
    """The dimensions `model` can sweep, in the form's order."""
    return [d for d in DIMENSIONS if (takes_prompt(model) if d == "prompt" else len(choices(model, d)) >= MIN_ITEMS)]


def takes_prompt(model: catalog.Model) -> bool:
    return any(p.name == "prompt" for p in model.params)


def choices(model: catalog.Model, dimension: str) -> list[Any]:
    """The values a sweep of `dimension` can take for `model` (empty: the model cannot sweep it, or, for
    prompts, any text can be a value)."""
    if dimension == "model":
        return [m.id for m in catalog.models().values() if m.kind == model.kind]
    if dimension == "seed":
        return list(range(MIN_ITEMS, MAX_ITEMS + 1)) if seed_range(model) else []
    try:
        rules = model.param(dimension).rules
    except KeyError:
        return []
    if rules.get("enum"):
        return [v for v in rules["enum"] if v is not None]
    if rules.get("type") == "integer" and "minimum" in rules and "maximum" in rules:
        return list(range(int(rules["minimum"]), int(rules["maximum"]) + 1))
    return []


def prompt_lines(lines: Sequence[str]) -> list[tuple[int, str]]:
    """(line number from 1, prompt) of each prompt in `lines` as typed: blank lines skipped, a prompt given
    twice kept once, at its first line. The numbers are the text's own, so a message can point at a line."""
    found: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if (prompt := line.strip()) and prompt not in found:
            found[prompt] = number
    return [(number, prompt) for prompt, number in found.items()]


def base_values(model: catalog.Model, params: Mapping[str, Any], dimension: str, values: Sequence[Any] | int) -> dict[str, Any]:
    """The form's values to validate as the base of a sweep of `dimension`.

    A prompt sweep sends its lines, never the form's own prompt, so a blank or refused prompt in the form
    must not stop it: the base takes the first line the model's prompt rules accept. The other fields are
    still checked (and their errors shown) as the form's; a refused line is named by `expand`, alone.
    """
    if dimension != "prompt" or isinstance(values, int):
        return dict(params)
    for _, prompt in prompt_lines(values):
        if "prompt" not in catalog.validate(model, {**params, "prompt": prompt}).errors:
            return {**params, "prompt": prompt}
    return dict(params)


def expand(base: Mapping[str, Any], dimension: str, values: Sequence[Any] | int) -> list[Variant]:
    """The batch: `base` once per value of `dimension`. For "seed", `values` is how many seeds; for
    "prompt", the lines of text as typed (see `prompt_lines`).

    Raises ValueError when the sweep itself is not possible (too few or too many, a model without seeds
    or without a prompt).
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"Variants cannot sweep {dimension!r}.")
    model = catalog.get(str(base["model"]))
    if dimension == "prompt":
        return _for_prompts(base, model, values)
    if dimension == "seed":
        if seed_range(model) is None:
            raise ValueError(f"{model.name or model.id} takes no seed, so there are no seeds to vary.")
        count = values if isinstance(values, int) else len(values)
        values = draw_seeds(model, _checked_count(count), avoid=base.get("seed"))
    values = list(dict.fromkeys(values))  # the same value twice would pay twice for one result
    _checked_count(len(values))
    if dimension == "model":
        return [_for_model(base, model_id) for model_id in values]
    return [_with(base, model, dimension, value) for value in values]


def _checked_count(count: int) -> int:
    if not MIN_ITEMS <= count <= MAX_ITEMS:
        raise ValueError(f"A batch has {MIN_ITEMS} to {MAX_ITEMS} variants; this one would have {count}.")
    return count


def label(dimension: str, value: Any) -> str:
    if dimension == "seed":
        return f"seed {value}"
    if dimension == "duration":
        return f"{value} s"
    if dimension == "model":
        try:
            return catalog.get(str(value)).name or str(value)
        except catalog.UnknownModelError:
            return str(value)
    if dimension == "prompt":
        return shorten(" ".join(str(value).split()), PROMPT_LABEL_CHARS)
    return str(value)


def _with(base: Mapping[str, Any], model: catalog.Model, dimension: str, value: Any) -> Variant:
    checked = catalog.validate(model, {**base, dimension: value})
    if not checked.ok:
        return Variant(label(dimension, value), problem="; ".join(checked.errors.values()))
    return Variant(label(dimension, value), body=checked.body)


def _for_prompts(base: Mapping[str, Any], model: catalog.Model, lines: Sequence[str] | int) -> list[Variant]:
    if not takes_prompt(model):
        raise ValueError(f"{model.name or model.id} takes no prompt, so there are no prompts to vary.")
    if isinstance(lines, int):
        raise ValueError("A prompt sweep needs its prompts, one per line.")
    numbered = prompt_lines(lines)
    _checked_count(len(numbered))
    # Drawn once, here: left blank, each create would draw its own seed (`seeds.with_seed` in
    # Connection.submit), and the videos would differ by more than their prompts.
    shared, _ = seeds.with_seed(base)
    return [_with_prompt(shared, model, number, prompt) for number, prompt in numbered]


def _with_prompt(base: Mapping[str, Any], model: catalog.Model, number: int, prompt: str) -> Variant:
    checked = catalog.validate(model, {**base, "prompt": prompt})
    if not checked.ok:
        return Variant(label("prompt", prompt), problem=f"Line {number}: " + "; ".join(checked.errors.values()))
    return Variant(label("prompt", prompt), body=checked.body)


def _for_model(base: Mapping[str, Any], model_id: str) -> Variant:
    """`base` for another model: the fields that model takes, validated by its own rules."""
    try:
        target = catalog.get(model_id)
    except catalog.UnknownModelError as exc:
        return Variant(model_id, problem=str(exc))
    taken = {p.name for p in target.params}
    params = {k: v for k, v in base.items() if k in taken}
    dropped = tuple(k for k in base if k != "model" and k not in taken)
    checked = catalog.validate(target, params)
    if not checked.ok:
        return Variant(label("model", model_id), problem="; ".join(checked.errors.values()), dropped=dropped)
    return Variant(label("model", model_id), body=checked.body, dropped=dropped)


def differences(requests: Sequence[Mapping[str, Any]]) -> set[str]:
    """The request fields whose values are not the same in all of `requests` (a field one lacks counts)."""
    names = {name for request in requests for name in request}
    return {n for n in names if len({repr(r.get(n)) for r in requests}) > 1}


def varied(requests: Sequence[Mapping[str, Any]]) -> set[str]:
    """What a person chose to vary among `requests`: their `differences`, the prompt only when every one has
    a prompt (a model swept in that takes none drops it, and that was nobody's choice)."""
    found = differences(requests)
    if not all(r.get("prompt") for r in requests):
        found.discard("prompt")
    return found
