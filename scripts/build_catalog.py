"""Build videogen/catalog.json and the fetch-response test fixture from the vendor's OpenAPI files.

    python scripts/build_catalog.py ../shared/aimlapi-spec

The vendor files are large (some are several MB of unrelated endpoints) and full of
prose. The project keeps only the facts a client needs: for each video model its
create endpoint and the JSON-Schema rules of every parameter (type, enum, default,
bounds, required). The output is committed; the app never reads the vendor files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CURRENT_ENDPOINT = "/v2/video/generations"
ROOT = Path(__file__).resolve().parent.parent
CATALOG_OUT = ROOT / "videogen" / "catalog.json"
FETCH_SCHEMA_OUT = ROOT / "tests" / "fixtures" / "fetch-response.schema.json"

# JSON-Schema keywords that carry rules; everything else (description, example,
# x-codeSamples, title) is prose and stays behind.
KEPT_KEYWORDS = (
    "type", "enum", "default", "minimum", "maximum", "minLength", "maxLength",
    "minItems", "maxItems", "format", "nullable", "deprecated", "required",
)

# Facts the OpenAPI files leave out but the vendor's contract states elsewhere
# (see the project's README, "Where the catalog comes from").
OVERRIDES: dict[str, dict] = {
    "veo2": {
        "typical_seconds": 45,
        "properties": {
            # The schema lists the enum but no default; the API renders 16:9.
            "aspect_ratio": {"default": "16:9"},
            # Five other models in the same files publish these bounds for seed;
            # veo2 takes the same unsigned 32-bit seed.
            "seed": {"minimum": 0, "maximum": 4294967295},
        },
    },
}


def clean_schema(schema: dict) -> dict:
    """Keep the rule-bearing keywords of a (possibly nested) schema."""
    out: dict = {k: schema[k] for k in KEPT_KEYWORDS if k in schema}
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        out["anyOf"] = [clean_schema(v) for v in variants]
    if "items" in schema:
        out["items"] = clean_schema(schema["items"])
    if "properties" in schema:
        out["properties"] = {n: clean_schema(p) for n, p in schema["properties"].items()}
    if "default" in out:
        out["default"] = coerce_default(out["default"], out.get("type"))
    return out


def coerce_default(value, type_: str | None):
    """Some files give integer defaults as strings ("5"); store them as their declared type."""
    try:
        if type_ == "integer" and isinstance(value, str):
            return int(value)
        if type_ == "number" and isinstance(value, str):
            return float(value)
        if type_ == "boolean" and isinstance(value, str):
            return value.strip().lower() == "true"
    except ValueError:
        pass
    return value


def create_operations(spec: dict):
    """Yield (path, request schema) for every JSON POST body in one OpenAPI file."""
    for path, operations in spec.get("paths", {}).items():
        post = operations.get("post")
        if not post:
            continue
        body = post.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" in body:
            yield path, body["schema"]


def build_catalog(spec_dir: Path) -> dict:
    models: dict[str, dict] = {}
    for file in sorted((spec_dir / "video-models").rglob("*.json")) + sorted((spec_dir / "legacy").rglob("*.json")):
        vendor = file.parent.name
        spec = json.loads(file.read_text(encoding="utf-8"))
        for path, schema in create_operations(spec):
            properties = dict(schema.get("properties", {}))
            model_ids = properties.pop("model", {}).get("enum", [])
            for model_id in model_ids:
                entry = models.setdefault(model_id, {"endpoint": None, "legacy_endpoints": [], "vendor": vendor})
                if path == CURRENT_ENDPOINT:
                    # The current endpoint's file is authoritative for the parameters.
                    entry["endpoint"] = path
                    entry["vendor"] = vendor
                    entry["schema"] = {
                        "properties": {n: clean_schema(p) for n, p in properties.items()},
                        "required": [r for r in schema.get("required", []) if r != "model"],
                    }
                elif path.startswith("/v2/generate/") and path not in entry["legacy_endpoints"]:
                    entry["legacy_endpoints"].append(path)
                    entry.setdefault("schema", {
                        "properties": {n: clean_schema(p) for n, p in properties.items()},
                        "required": [r for r in schema.get("required", []) if r != "model"],
                    })
    for entry in models.values():
        if entry["endpoint"] is None:
            # Only published on a vendor-prefixed path: that path is the create endpoint.
            entry["endpoint"] = entry["legacy_endpoints"].pop(0)
        entry["legacy_endpoints"].sort()
    apply_overrides(models)
    return {"models": dict(sorted(models.items()))}


def apply_overrides(models: dict[str, dict]) -> None:
    for model_id, override in OVERRIDES.items():
        entry = models[model_id]
        for key, value in override.items():
            if key == "properties":
                for name, rules in value.items():
                    entry["schema"]["properties"][name].update(rules)
            else:
                entry[key] = value


def to_json_schema(schema: dict) -> dict:
    """OpenAPI 3.0 `nullable` is not JSON Schema; turn it into a null type so jsonschema can check it."""
    out = {k: v for k, v in schema.items() if k not in ("nullable", "description", "example", "format")}
    if "properties" in out:
        out["properties"] = {n: to_json_schema(p) for n, p in out["properties"].items()}
    if "items" in out:
        out["items"] = to_json_schema(out["items"])
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def build_fetch_schema(spec_dir: Path) -> dict:
    spec = json.loads((spec_dir / "video-models" / "universal-video-fetch.json").read_text(encoding="utf-8"))
    schema = spec["paths"][CURRENT_ENDPOINT]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {"$schema": "http://json-schema.org/draft-07/schema#", **to_json_schema(schema)}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_catalog(path: Path, catalog: dict) -> None:
    """One model per line: compact, and a vendor change shows up as a one-line diff."""
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in catalog["models"].items()]
    path.write_text('{"models": {\n' + ",\n".join(lines) + "\n}}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, help="the vendor spec folder (holds video-models/ and legacy/)")
    args = parser.parse_args(argv)
    catalog = build_catalog(args.spec_dir)
    write_catalog(CATALOG_OUT, catalog)
    write_json(FETCH_SCHEMA_OUT, build_fetch_schema(args.spec_dir))
    print(f"{len(catalog['models'])} models -> {CATALOG_OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
