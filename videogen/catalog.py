"""Video models and the rules of their parameters.

The rules live in `catalog.json`, built from the vendor's OpenAPI files by
`scripts/build_catalog.py`. Each parameter keeps the JSON-Schema keywords the
vendor published (type, enum, default, minimum, maximum, minLength, ...), so a
reader who knows JSON Schema can read the file directly.

`validate()` is the only gate between a form and the network: it returns either
the cleaned request body or one readable message per field, never both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("catalog.json")

# Most models, veo2 among them, publish no prompt limit. This project's cap:
# 4,000 characters (roughly 1,000 tokens), longer than any prompt worth paying
# for and small enough that a runaway paste is refused before it costs anything.
# Models that publish a maxLength use theirs.
UNPUBLISHED_PROMPT_LIMIT = 4000

# When a model's typical run time is not known, poll as if it took a minute.
DEFAULT_TYPICAL_SECONDS = 60.0

_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Param:
    """One request parameter and its rules (JSON-Schema keywords)."""

    name: str
    rules: Mapping[str, Any]
    required: bool = False

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

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


@dataclass(frozen=True)
class Model:
    id: str
    endpoint: str
    vendor: str
    params: tuple[Param, ...]
    legacy_endpoints: tuple[str, ...] = ()
    typical_seconds: float = DEFAULT_TYPICAL_SECONDS

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
def models() -> dict[str, Model]:
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))["models"]
    return {model_id: _model_from_json(model_id, entry) for model_id, entry in raw.items()}


def get(model_id: str) -> Model:
    try:
        return models()[model_id]
    except KeyError:
        raise UnknownModelError(model_id) from None


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
    )


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

    return Validation(errors=errors) if errors else Validation(body=body)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(label: str, rules: Mapping[str, Any], value: Any, *, max_length: int | None = None) -> Any:
    """Return `value` converted to the rule's type, or raise ValueError with a readable message."""
    if "anyOf" in rules:
        for variant in rules["anyOf"]:
            try:
                return _check(label, variant, value, max_length=max_length)
            except ValueError:
                continue
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
    return {
        name: _check(f"{label}: {name}", properties[name], item) if name in properties else item
        for name, item in value.items()
    }


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
