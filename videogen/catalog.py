"""Video models, the text-to-image models that make start frames, and the rules of their parameters.

The rules live in `catalog.json`, built from the vendor's OpenAPI files by
`scripts/build_catalog.py`. `models()` and `get()` are the video models, the
only ones a video request can name; `image_models()` and `get_image()` the
image models, whose parameters have the same shape (`Param`), so one form
builder and one `validate()` serve both.

Each parameter keeps the JSON-Schema keywords the vendor published (type, enum,
default, minimum, maximum, minLength, ...), so a reader who knows JSON Schema
can read the file directly. Facts the vendor states only in prose (which file a
field takes, whether Base64 is accepted, size and dimension limits) sit beside
them under `x-` keys.

`validate()` is the only gate between a form and the network: it returns either
the cleaned request body or one readable message per field, never both. It
converts and checks with readable messages first, then checks the final body
against the model's published schema with `jsonschema`, so no rule of ours can
drift from the vendor's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import jsonschema

from .text import shorten

CATALOG_PATH = Path(__file__).with_name("catalog.json")

# Most models, veo2 among them, publish no prompt limit. This project's cap:
# 4,000 characters (roughly 1,000 tokens), longer than any prompt worth paying
# for and small enough that a runaway paste is refused before it costs anything.
# Models that publish a maxLength use theirs.
UNPUBLISHED_PROMPT_LIMIT = 4000

# When a model's typical run time is not known, poll as if it took a minute.
DEFAULT_TYPICAL_SECONDS = 60.0

_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")

# Parameter-name words that read as initials ("cfg_scale" is "CFG scale", not "Cfg scale").
_ACRONYMS = {w: w.upper() for w in ("cfg", "fps", "url", "urls", "id", "tts", "hdr", "exr", "uri")}

#: The model the playground opens on, and the one a request without a model is for.
DEFAULT_MODEL = "veo2"

#: The three kinds of model, in the order the picker offers them.
KINDS = ("text-to-video", "image-to-video", "video-to-video")

#: The endpoint the vendor documents for every video model now; older ones are kept as `legacy_endpoints`.
CURRENT_ENDPOINT = "/v2/video/generations"

#: The kind of every image model in the catalog: it draws a picture from a prompt.
IMAGE_KIND = "text-to-image"
#: The endpoint of every image model (OpenAI's shape, on the same key).
IMAGES_ENDPOINT = "/v1/images/generations"


@dataclass(frozen=True)
class Param:
    """One request parameter and its rules (JSON-Schema keywords)."""

    name: str
    rules: Mapping[str, Any]
    required: bool = False

    @property
    def label(self) -> str:
        words = self.name.replace("_", " ").capitalize().split(" ")
        return " ".join(_ACRONYMS.get(w.lower(), w) for w in words)

    @property
    def type(self) -> str | None:
        return self.rules.get("type")

    @property
    def enum(self) -> tuple | None:
        return tuple(self.rules["enum"]) if "enum" in self.rules else None

    @property
    def default(self) -> Any:
        return self.rules.get("default")

    @property
    def max_length(self) -> int | None:
        if "maxLength" in self.rules:
            return self.rules["maxLength"]
        if self.type == "string" and self.name.endswith("prompt") and "enum" not in self.rules:
            return UNPUBLISHED_PROMPT_LIMIT
        return None

    @property
    def description(self) -> str:
        return (self.rules.get("description") or "").strip()

    @property
    def is_list(self) -> bool:
        return self.type == "array"

    # -- files: what the vendor's description says about them (x- keys, see build_catalog.media_facts)

    @property
    def media(self) -> str | None:
        """Which file the field carries ("image", "video" or "audio"), as a link or a data URL; None if none."""
        return self.rules.get("x-media")

    @property
    def accepts_base64(self) -> bool:
        return bool(self.rules.get("x-base64"))

    @property
    def max_bytes(self) -> int | None:
        return self.rules.get("x-max-bytes")

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self.rules.get("x-formats", ()))

    @property
    def min_side(self) -> int | None:
        return self.rules.get("x-min-side")

    @property
    def aspect_range(self) -> tuple[float, float] | None:
        bounds = self.rules.get("x-aspect-range")
        return (bounds[0], bounds[1]) if bounds else None


@dataclass(frozen=True)
class Model:
    id: str
    endpoint: str
    vendor: str
    params: tuple[Param, ...]
    legacy_endpoints: tuple[str, ...] = ()
    typical_seconds: float = DEFAULT_TYPICAL_SECONDS
    name: str = ""
    kind: str = "text-to-video"
    #: Other names the vendor's model list may give it ("google/veo-2.0-generate-001" for veo2).
    vendor_ids: tuple[str, ...] = ()
    #: The vendor's measured run times by clip length, as (clip seconds, run seconds), where they
    #: depend on it (kling v2.x master: 5-6 min for 5 s, 11-14 min for 10 s); empty when one figure holds.
    typical_by_duration: tuple[tuple[float, float], ...] = ()

    def typical_for(self, duration: Any = None) -> float:
        """The typical run time for a clip of `duration` seconds (a number or its text; None: the default).

        Between two measured lengths the figure follows a straight line; beyond them, or from a
        single measurement, it grows in proportion to the clip's length, as rendering time does.
        """
        points = sorted(self.typical_by_duration)
        try:
            clip = float(duration)
        except (TypeError, ValueError):
            return self.typical_seconds
        if not points or not math.isfinite(clip) or clip <= 0:
            return self.typical_seconds
        if clip <= points[0][0]:
            return points[0][1] * clip / points[0][0]
        for (short, short_run), (long, long_run) in zip(points, points[1:]):
            if clip <= long:
                return short_run + (long_run - short_run) * (clip - short) / (long - short)
        return points[-1][1] * clip / points[-1][0]

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this model may go by in the vendor's model list, its own id first."""
        return (self.id, *self.vendor_ids)

    @property
    def label(self) -> str:
        """Name and kind, as in "Kling 1.6 Standard · text to video"."""
        return f"{self.name or self.id} · {self.kind.replace('-', ' ')}"

    @property
    def option_label(self) -> str:
        """The label and the id, as in "Kling 1.6 Standard · text to video — kling-video/v1.6/standard/text-to-video"."""
        return f"{self.label} — {self.id}"

    @cached_property
    def json_schema(self) -> dict[str, Any]:
        """The published request schema as JSON Schema (draft 7), `model` included."""
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"model": {"const": self.id}, **{p.name: to_json_schema(p.rules) for p in self.params}},
            "required": ["model", *(p.name for p in self.params if p.required)],
        }

    @cached_property
    def validator(self) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator(self.json_schema)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.id} has no parameter {name!r}")

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if p.default is not None}


@dataclass(frozen=True)
class Validation:
    """The outcome of `validate`: a body to send, or errors keyed by field name."""

    body: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return f"Unknown model {self.args[0]!r}."


@cache
def _entries() -> dict[str, dict[str, Any]]:
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


@cache
def models() -> dict[str, Model]:
    """The video models, by id."""
    return {model_id: _model_from_json(model_id, entry) for model_id, entry in _entries()["models"].items()}


def get(model_id: str) -> Model:
    """A video model; UnknownModelError for any other id, an image model's included."""
    try:
        return models()[model_id]
    except KeyError:
        raise UnknownModelError(model_id) from None


@cache
def image_models() -> dict[str, Model]:
    """The text-to-image models, by id: each of kind `IMAGE_KIND`, served at `IMAGES_ENDPOINT`."""
    return {model_id: _model_from_json(model_id, entry) for model_id, entry in _entries().get("image_models", {}).items()}


def get_image(model_id: str) -> Model:
    """An image model; UnknownModelError for any other id, a video model's included."""
    try:
        return image_models()[model_id]
    except KeyError:
        raise UnknownModelError(model_id) from None


def name_of(model_id: str) -> str:
    """A model's readable name, or its id when the catalog no longer has it (an old history row)."""
    try:
        return get(model_id).name
    except UnknownModelError:
        pass
    try:
        return get_image(model_id).name
    except UnknownModelError:
        return model_id


def _model_from_json(model_id: str, entry: Mapping[str, Any]) -> Model:
    schema = entry["schema"]
    required = set(schema.get("required", ()))
    params = tuple(Param(name, rules, name in required) for name, rules in schema["properties"].items())
    return Model(
        id=model_id,
        endpoint=entry["endpoint"],
        vendor=entry["vendor"],
        params=params,
        legacy_endpoints=tuple(entry.get("legacy_endpoints", ())),
        typical_seconds=float(entry.get("typical_seconds", DEFAULT_TYPICAL_SECONDS)),
        name=entry.get("name", model_id),
        kind=entry.get("kind", "text-to-video"),
        vendor_ids=tuple(entry.get("vendor_ids", ())),
        typical_by_duration=tuple((float(k), float(v)) for k, v in entry.get("typical_by_duration", {}).items()),
    )


def to_json_schema(rules: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 rules as JSON Schema: `nullable` becomes a null type; prose and `x-` facts are dropped."""
    out = {k: v for k, v in rules.items() if k not in ("nullable", "description", "example") and not k.startswith("x-")}
    if "properties" in out:
        out["properties"] = {n: to_json_schema(p) for n, p in out["properties"].items()}
    if "items" in out:
        out["items"] = to_json_schema(out["items"])
    for combiner in ("anyOf", "oneOf", "allOf"):
        if combiner in out:
            out[combiner] = [to_json_schema(v) for v in out[combiner]]
    if rules.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        for combiner in ("anyOf", "oneOf"):
            if combiner in out:
                out[combiner] = [*out[combiner], {"type": "null"}]
    return out


def validate(model: str | Model, params: Mapping[str, Any]) -> Validation:
    """Check `params` against the model's rules and build the request body.

    Blank optional values mean "use the server's default" and are left out;
    published defaults are filled in so the stored body says exactly what ran.
    """
    if isinstance(model, str):
        try:
            model = get(model)
        except UnknownModelError as exc:
            return Validation(errors={"model": str(exc)})

    errors: dict[str, str] = {}
    body: dict[str, Any] = {"model": model.id}
    known = {p.name for p in model.params}
    for name, value in params.items():
        if name == "model":
            if value != model.id:
                errors["model"] = f"This form is for {model.id}, not {value!r}."
        elif name not in known:
            errors[name] = f"{model.id} has no parameter called {name!r}."

    for param in model.params:
        value = params.get(param.name)
        if _is_blank(value):
            if param.required:
                errors[param.name] = f"{param.label} is required."
            elif param.default is not None:
                body[param.name] = param.default
            continue
        try:
            body[param.name] = _check(param.label, param.rules, value, max_length=param.max_length)
        except ValueError as exc:
            errors[param.name] = str(exc)

    if errors:
        return Validation(errors=errors)
    # The final gate: the published schema itself, on the body exactly as it will be sent.
    for problem in model.validator.iter_errors(body):
        name, message = _plain(model, problem)
        errors.setdefault(name, message)
    return Validation(errors=errors) if errors else Validation(body=body)


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "empty",
}


def _plain(model: Model, error: jsonschema.ValidationError) -> tuple[str, str]:
    """A jsonschema error as (field name, a sentence a person can act on)."""
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = next((n for n in error.validator_value if n not in error.instance), "")
        path.append(missing)
    name = str(path[0]) if path else "model"
    try:
        label = model.param(name).label
    except KeyError:
        label = name.replace("_", " ").capitalize()
    where = label + "".join(f" › {p + 1 if isinstance(p, int) else p}" for p in path[1:])
    value, rule = error.instance, error.validator_value
    if error.validator == "required":
        return name, f"{where} is required."
    if error.validator == "enum":
        return name, f"{where} must be one of {', '.join(str(c) for c in rule)} (got {_show(value)})."
    if error.validator == "const":
        return name, f"{where} must be {rule!r} (got {_show(value)})."
    if error.validator == "type":
        kinds = rule if isinstance(rule, list) else [rule]
        return name, f"{where} must be {' or '.join(_TYPE_WORDS.get(k, k) for k in kinds)} (got {_show(value)})."
    if error.validator in ("minimum", "maximum"):
        bound = "at least" if error.validator == "minimum" else "at most"
        return name, f"{where} must be {bound} {rule} (got {_show(value)})."
    if error.validator in ("minItems", "maxItems"):
        bound = "at least" if error.validator == "minItems" else "at most"
        return name, f"{where} takes {bound} {rule} item(s)."
    if error.validator in ("minLength", "maxLength"):
        bound = "at least" if error.validator == "minLength" else "at most"
        return name, f"{where} must be {bound} {rule:,} characters long."
    if error.validator in ("anyOf", "oneOf"):
        return name, f"{where} has the wrong shape."
    return name, f"{where}: {error.message}."


def example(rules: Mapping[str, Any], links: Mapping[str, str], *, media: str | None = None) -> Any:
    """A value these rules accept: the default, the first option, or the smallest of each required part."""
    if "default" in rules:
        return rules["default"]
    if "enum" in rules:
        return rules["enum"][0]
    variants = rules.get("anyOf") or rules.get("oneOf")
    if variants:
        return example(variants[0], links, media=media)
    kind = rules.get("type")
    if kind == "array":
        count = max(rules.get("minItems", 1), 1)
        return [example(rules.get("items", {}), links, media=media) for _ in range(count)]
    if kind == "object":
        properties = rules.get("properties", {})
        inner = next((p["enum"][0] for n, p in properties.items() if n == "type" and p.get("enum")), None)
        return {
            n: example(properties[n], links, media=inner if inner in links else media) for n in rules.get("required", ()) if n in properties
        }
    if kind in ("integer", "number"):
        return rules.get("minimum", 1)
    if kind == "boolean":
        return False
    if media or rules.get("format") == "uri":
        return links.get(media or "image", links["image"])
    return "A red fox runs through fresh snow at dawn" + "." * max(0, rules.get("minLength", 0) - 40)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(label: str, rules: Mapping[str, Any], value: Any, *, max_length: int | None = None) -> Any:
    """Return `value` converted to the rule's type, or raise ValueError with a readable message."""
    if "anyOf" in rules:
        problems = []
        for variant in rules["anyOf"]:
            try:
                return _check(label, variant, value, max_length=max_length)
            except ValueError as exc:
                problems.append((variant, exc))
        # Name the problem of the variant the value was meant to be (same type, same "type" tag).
        for variant, exc in problems:
            tag = variant.get("properties", {}).get("type", {}).get("enum", [])
            if _json_type(value) == variant.get("type") and (not tag or not isinstance(value, Mapping) or value.get("type") in tag):
                raise exc
        raise ValueError(f"{label} has the wrong shape.")

    kind = rules.get("type")
    if kind == "string":
        value = _as_string(label, value)
    elif kind == "integer":
        value = _as_integer(label, value)
    elif kind == "number":
        value = _as_number(label, value)
    elif kind == "boolean":
        value = _as_boolean(label, value)
    elif kind == "array":
        value = _as_array(label, rules, value)
    elif kind == "object":
        value = _as_object(label, rules, value)

    if "enum" in rules and value not in rules["enum"]:
        choices = ", ".join(str(c) for c in rules["enum"])
        raise ValueError(f"{label} must be one of {choices} (got {_show(value)}).")
    _check_bounds(label, rules, value)
    limit = rules.get("maxLength", max_length)
    if isinstance(value, str) and limit is not None and len(value) > limit:
        raise ValueError(f"{label} is {len(value):,} characters long; the limit is {limit:,}.")
    if isinstance(value, str) and len(value) < rules.get("minLength", 0):
        raise ValueError(f"{label} must be at least {rules['minLength']} characters long.")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {str: "string", float: "number", dict: "object", list: "array"}.get(type(value), "")


def _check_bounds(label: str, rules: Mapping[str, Any], value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, high = rules.get("minimum"), rules.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            raise ValueError(f"{label} must be between {low} and {high} (got {_show(value)}).")
        bound = f"at least {low}" if low is not None else f"at most {high}"
        raise ValueError(f"{label} must be {bound} (got {_show(value)}).")


def _as_string(label: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{label} must be text.")
    return value.strip()


def _as_integer(label: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{label} must be a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"{label} must be a whole number (got {_show(value)}).")


def _as_number(label: str, value: Any) -> float | int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{label} must be a number (got {_show(value)}).")


def _as_boolean(label: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{label} must be true or false (got {_show(value)}).")


def _as_array(label: str, rules: Mapping[str, Any], value: Any) -> list:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{label} must be a list.")
    low, high = rules.get("minItems"), rules.get("maxItems")
    if low is not None and len(value) < low:
        raise ValueError(f"{label} needs at least {low} item(s).")
    if high is not None and len(value) > high:
        raise ValueError(f"{label} takes at most {high} item(s).")
    item_rules = rules.get("items", {})
    return [_check(f"{label} item {i + 1}", item_rules, item) for i, item in enumerate(value)]


def _as_object(label: str, rules: Mapping[str, Any], value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{label} must be an object.")
    properties = rules.get("properties", {})
    for name in rules.get("required", ()):
        if _is_blank(value.get(name)):
            raise ValueError(f"{label}: {name} is required.")
    return {name: _check(f"{label}: {name}", properties[name], item) if name in properties else item for name, item in value.items()}


def _show(value: Any) -> str:
    return shorten(repr(value), 40)
