"""Build videogen/catalog.json and the fetch-response test fixture from the vendor's OpenAPI files.

    python scripts/build_catalog.py ../shared/aimlapi-spec

The vendor files are large (some are several MB of unrelated endpoints). The
project keeps what a client and its forms need: for each video model its create
endpoint, the JSON-Schema rules of every parameter (type, enum, default, bounds,
required) with the vendor's description as help text, and facts read from those
descriptions under `x-` keys (media kind, Base64 accepted, size, formats and
dimension limits). Each model also gets a readable name, a kind and a typical
run time, and where the vendor's model list (GET /v1/models) names it otherwise,
the names it goes by there (`vendor_ids`).

The text-to-image models (`image_models`, the ones that make start frames) are
kept the same way from `image-models/`: their endpoint, their parameters' rules,
a readable name and the kind "text-to-image". Models that change a picture
rather than draw one from a prompt are left out (see `image_models`).

The output is committed; the app never reads the vendor files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from videogen.catalog import CURRENT_ENDPOINT, IMAGE_KIND, IMAGES_ENDPOINT, Model, to_json_schema  # noqa: E402 (after the path is set)

CATALOG_OUT = ROOT / "videogen" / "catalog.json"
FETCH_SCHEMA_OUT = ROOT / "tests" / "fixtures" / "fetch-response.schema.json"

# JSON-Schema keywords that carry rules, and the description the form shows as
# help; everything else (example, x-codeSamples, title) stays behind.
KEPT_KEYWORDS = (
    "type",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "format",
    "nullable",
    "deprecated",
    "required",
    "description",
)

# Facts the OpenAPI files leave out but the vendor's contract states elsewhere
# (see the project's README, "Where the catalog comes from").
OVERRIDES: dict[str, dict] = {
    # Its required inputs are objects holding a performance video: video to video, though no
    # top-level field says so.
    "runway/act_two": {"kind": "video-to-video"},
    "veo2": {
        # The model list (GET /v1/models) names it by these; the create endpoint by "veo2".
        "vendor_ids": ["google/veo-2.0-generate-001", "veo-2.0-generate-001"],
        "properties": {
            # The schema lists the enum but no default; the API renders 16:9.
            "aspect_ratio": {"default": "16:9"},
            # Five other models in the same files publish these bounds for seed;
            # veo2 takes the same unsigned 32-bit seed.
            "seed": {"minimum": 0, "maximum": 4294967295},
        },
    },
}


# -- facts read from names and descriptions ------------------------------------------


def media_kind(name: str, rules: dict) -> str | None:
    """Which file a parameter carries ("image", "video", "audio"), judged by its name and shape."""
    if "enum" in rules:
        return None  # video_quality, video_write_mode: settings, not files
    shapes = [rules, *rules.get("anyOf", ()), *rules.get("oneOf", ())]
    if not any(s.get("type") == "string" or (s.get("type") == "array" and s.get("items", {}).get("type") == "string") for s in shapes):
        return None
    if re.search(r"video_urls?$", name):
        return "video"
    if re.search(r"audio_urls?$", name):
        return "audio"
    if re.search(r"image|mask", name):
        return "image"
    return None


def media_facts(name: str, rules: dict) -> dict:
    """The `x-` facts of one media parameter, read from the vendor's description where it states them."""
    kind = media_kind(name, rules)
    if kind is None:
        return {}
    text = rules.get("description") or ""
    facts: dict = {"x-media": kind}
    if re.search(r"base64|data ur[il]", text, re.I):
        facts["x-base64"] = True
    if size := re.search(r"(?:max(?:imum)?(?: file size)?:?|must not exceed)\s*(\d+)\s*MB", text, re.I):
        facts["x-max-bytes"] = int(size[1]) * 1024 * 1024
    if formats := re.search(r"(?:formats?(?: must be)?:?)\s*((?:\.?(?:jpe?g|png|webp)[,/ ]*(?:or |and )?)+)", text, re.I):
        facts["x-formats"] = sorted({f.lower() for f in re.findall(r"jpe?g|png|webp", formats[1], re.I)})
    if side := re.search(r"shorter side must exceed (\d+) pixels|min (\d+)\s*px per side", text, re.I):
        facts["x-min-side"] = int(side[1] or side[2])
    if ratio := re.search(r"greater than (\d+):(\d+) and less than (\d+):(\d+)|within ([\d.]+):([\d.]+) to ([\d.]+):([\d.]+)", text, re.I):
        a, b, c, d = (float(x) for x in ratio.groups() if x is not None)
        facts["x-aspect-range"] = [round(a / b, 4), round(c / d, 4)]
    return facts


def model_kind(model_id: str, schema: dict) -> str:
    """Video to video when a video is required, image to video when an image is; the id decides when it says."""
    required = {media_kind(n, schema["properties"][n]) for n in schema.get("required", ()) if n in schema["properties"]}
    if re.search(r"video-to-video|v2v", model_id) or "video" in required:
        return "video-to-video"
    if re.search(r"image-to-video|i2v", model_id) or "image" in required:
        return "image-to-video"
    return "text-to-video"


# Run times the vendor measured, as the console output on its own docs pages shows them, as
# {clip seconds: run seconds} for the catalog ids each names; `None` for a figure given without a
# clip length, which holds for every length. Where the vendor's figures grow with the clip (kling
# master, hailuo), they are kept by length and the schedule scales them (Model.typical_for).
# tests/test_api_practice.py lists the ids each figure reaches.
MEASURED_RUN_TIMES: tuple[tuple[re.Pattern, dict[int | None, int]], ...] = (
    # 40-50 s for a 5 s clip; also measured against the live API when the project began (40 to 60 s).
    (re.compile(r"veo2(/image-to-video)?"), {None: 45}),
    (re.compile(r"google/veo3|google/veo-3\.0-i2v"), {None: 120}),  # about 2 min
    (re.compile(r"openai/sora-2-(t2v|i2v)"), {None: 70}),  # 50-90 s
    # 4-7 min. The turbo variants are named apart, and nothing says they take as long.
    (re.compile(r"klingai/video-v3-(standard|pro|omni-720p|omni-1080p)-(text|image)-to-video"), {None: 330}),
    (re.compile(r"klingai/v2(\.1)?-master-(text|image)-to-video"), {5: 330, 10: 750}),  # 5-6 min; 11-14 min
    (re.compile(r"alibaba/wan-2-7-(t2v|i2v|r2v)"), {None: 510}),  # about 8.5 min
    (re.compile(r"minimax/hailuo-02"), {10: 510}),  # 8-9 min for a 10 s clip
)

# Other models' run times are not published. This project's estimate by tier, used until the
# history has seen a model finish (see videogen/polling/_runtimes.py).
FAST_TIER = re.compile(r"fast|flash|turbo|lite|draft|distill|mini")
SLOW_TIER = re.compile(r"pro|master|1080p|ultra")


def typical_seconds(model_id: str) -> int:
    if FAST_TIER.search(model_id):
        return 30
    if SLOW_TIER.search(model_id):
        return 120
    return 60


def run_times(model_id: str, schema: dict) -> dict:
    """`typical_seconds` (at the clip length a request without one gets) and, where measured by
    length, `typical_by_duration`; the tier's estimate for a model the vendor has not measured."""
    measured = next((figures for pattern, figures in MEASURED_RUN_TIMES if pattern.fullmatch(model_id)), None)
    if measured is None:
        return {"typical_seconds": typical_seconds(model_id)}
    if None in measured:
        return {"typical_seconds": measured[None]}
    duration = schema["properties"].get("duration", {})
    clip = duration.get("default") or min(duration.get("enum") or measured)  # the shortest, when none is the default
    by_length = sorted(measured.items())
    model = Model(id=model_id, endpoint="", vendor="", params=(), typical_by_duration=tuple(by_length))
    return {"typical_seconds": round(model.typical_for(clip)), "typical_by_duration": {str(k): v for k, v in by_length}}


_KIND_IN_ID = re.compile(r"(?:^|[-/])(?:text|image|video)-to-video(?=$|[-/])|(?:^|[-/])(?:t2v|i2v|v2v)(?=$|[-/])")
_BRANDS = {
    "klingai": "Kling",
    "kling-video": "Kling",
    "luma": "Luma",
    "runway": "Runway",
    "runway-gen3": "Runway Gen-3",
    "minimax": "MiniMax",
    "pixverse": "PixVerse",
    "krea": "Krea",
    "tencent": "Tencent",
    "veed": "VEED",
    "beeble": "Beeble",
    "magic": "Magic",
    "wan": "Wan",
    "reve": "Reve",
}
_WORDS = {
    "ltxv": "LTXV",
    "vace": "VACE",
    "o1": "O1",
    "r2v": "Reference",
    "h3": "H3",
    "veo2": "Veo 2",
    "veo3": "Veo 3",
    "gen3a": "Gen-3 Alpha",
    "gen4": "Gen-4",
    "switchx": "SwitchX",
    "flux": "FLUX",
    "omnihuman": "OmniHuman",
    "live2d": "Live2D",
    "a14b": "A14B",
    "14b": "14B",
    "1.3b": "1.3B",
    "happyhorse": "HappyHorse",
    "gpt": "GPT",
    "srpo": "SRPO",
    "xl": "XL",
    "mai": "MAI",
    "lora": "LoRA",
}
_NAMES = {
    "video-01": "MiniMax Video-01",
    "video-01-live2d": "MiniMax Video-01 Live2D",
    "dall-e-2": "DALL·E 2",
    "dall-e-3": "DALL·E 3",
    "stable-diffusion-v35-large": "Stable Diffusion 3.5 Large",
}
# The spec folders spell some vendors two ways ("Kling-AI", "kling-ai"); one readable name each.
_VENDORS = {
    "kling-ai": "Kling AI",
    "bytedance": "ByteDance",
    "openai": "OpenAI",
    "luma-ai": "Luma AI",
    "runway": "Runway",
    "magic": "Magic",
    "alibaba-cloud": "Alibaba Cloud",
    "black-forest-labs": "Black Forest Labs",
    "sber-ai": "Sber AI",
    # Folders only the image models use.
    "flux": "Black Forest Labs",
    "microsoft": "Microsoft",
    "recraftai": "Recraft",
}


# Image model ids that start with the model's family rather than its vendor ("flux/dev" is FLUX Dev).
_IMAGE_FAMILIES = ("flux", "flux-pro", "imagen4")
_IMAGE_KIND_IN_ID = re.compile(r"(?:^|[-/])(?:text-to-image|t2i)(?=$|[-/])")


def image_name(model_id: str) -> str:
    """ "flux/kontext-max/text-to-image" -> "FLUX Kontext Max" (the kind is shown apart, as for video models)."""
    if model_id in _NAMES:
        return _NAMES[model_id]
    rest = _IMAGE_KIND_IN_ID.sub("", model_id).strip("/-")
    family, _, tail = rest.partition("/")
    if family in _IMAGE_FAMILIES and tail:
        rest = f"{family}-{tail}"
    return readable_name(rest)


def vendor_name(folder: str) -> str:
    """The vendor as people write it, from the spec folder's name."""
    return _VENDORS.get(folder.lower(), folder.replace("-", " "))


def readable_name(model_id: str) -> str:
    """ "kling-video/v1.6/standard/text-to-video" -> "Kling 1.6 Standard" (the kind is shown apart)."""
    if model_id in _NAMES:
        return _NAMES[model_id]
    rest = model_id.replace("multi-image-to-video", "multi-image").replace("reference-to-video", "reference")
    rest = rest.replace("first-last-image-to-video", "first-last-frame")
    segments = _KIND_IN_ID.sub("", rest).strip("/-").split("/")
    brand = _BRANDS.get(segments.pop(0), "") if len(segments) > 1 else ""
    words: list[str] = []
    for token in re.split(r"[-/_ ]+", "/".join(segments)):
        low = token.lower()
        if not token:
            continue
        if low in _WORDS:
            words.append(_WORDS[low])
        elif version := re.fullmatch(r"v(\d+(?:\.\d+)*)", low):
            words.append(version[1])
        elif glued := re.fullmatch(r"([a-z]+)(\d+(?:\.\d+)*)", low):
            words.append(f"{glued[1].capitalize()} {glued[2]}")
        elif words and re.fullmatch(r"\d", low) and re.fullmatch(r"\d", words[-1].split()[-1]):
            words[-1] += "." + low  # "wan-2-6" -> "Wan 2.6"
        else:
            words.append(token.capitalize() if token.islower() else token)
    name = " ".join(words).replace("Multi Image", "Multi-image").replace("First Last Frame", "First-last frame")
    return f"{brand} {name}" if brand and not name.lower().startswith(brand.lower()) else name


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


def param_rules(name: str, schema: dict) -> dict:
    return {**clean_schema(schema), **media_facts(name, schema)}


def build_catalog(spec_dir: Path) -> dict:
    models: dict[str, dict] = {}
    for file in sorted((spec_dir / "video-models").rglob("*.json")) + sorted((spec_dir / "legacy").rglob("*.json")):
        vendor = vendor_name(file.parent.name)
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
                        "properties": {n: param_rules(n, p) for n, p in properties.items()},
                        "required": [r for r in schema.get("required", []) if r != "model"],
                    }
                elif path.startswith("/v2/generate/") and path not in entry["legacy_endpoints"]:
                    entry["legacy_endpoints"].append(path)
                    entry.setdefault(
                        "schema",
                        {
                            "properties": {n: param_rules(n, p) for n, p in properties.items()},
                            "required": [r for r in schema.get("required", []) if r != "model"],
                        },
                    )
    for entry in models.values():
        if entry["endpoint"] is None:
            # Only published on a vendor-prefixed path: that path is the create endpoint.
            entry["endpoint"] = entry["legacy_endpoints"].pop(0)
        entry["legacy_endpoints"].sort()
    for model_id, entry in models.items():
        entry["name"] = readable_name(model_id)
        entry["kind"] = model_kind(model_id, entry["schema"])
        entry.update(run_times(model_id, entry["schema"]))
    apply_overrides(models)
    return {"models": dict(sorted(models.items())), "image_models": image_models(spec_dir)}


# Image models whose id says they change a picture (an edit, an upscale, image to image): not text to image,
# even where the picture is optional in their schema.
_CHANGES_A_PICTURE = re.compile(r"edit|image-to-image|i2i|upscale|sharpen|switchx")


def size_presets(schema: dict) -> dict:
    """An image size that is either a named preset or a `{width, height}` object, as its presets alone.

    The form builder gives a choice of presets a select, and an `anyOf` only a JSON field; a start frame
    needs a shape, not exact pixels, so the app offers the presets and its validation refuses the object.
    Any other schema is returned as it is.
    """
    variants = schema.get("anyOf") or schema.get("oneOf") or []
    presets = [v for v in variants if v.get("type") == "string" and "enum" in v]
    sizes = [v for v in variants if v not in presets]
    if len(presets) != 1 or not sizes or not all(set(v.get("properties", ())) == {"width", "height"} for v in sizes):
        return schema
    out = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    out["type"], out["enum"] = "string", presets[0]["enum"]
    if out.get("default") not in out["enum"]:
        out.pop("default", None)
    if not out.get("description") and presets[0].get("description"):
        out["description"] = presets[0]["description"]
    return out


def image_models(spec_dir: Path) -> dict[str, dict]:
    """The text-to-image models: every model of `POST /v1/images/generations` that draws from a prompt alone.

    A model is left out when a picture is among its required inputs or its id names a change to a picture.
    A model that also edits takes its pictures as optional inputs; those are left out of its entry, so its
    form asks for a prompt only. Where several files describe one model, the last in sorted order is kept,
    as for video models.
    """
    models: dict[str, dict] = {}
    for file in sorted((spec_dir / "image-models").rglob("*.json")):
        vendor = vendor_name(file.parent.name)
        spec = json.loads(file.read_text(encoding="utf-8"))
        for path, schema in create_operations(spec):
            if path != IMAGES_ENDPOINT:
                continue  # the same body again without /v1, a /with-url variant, or edits
            properties = dict(schema.get("properties", {}))
            model_ids = properties.pop("model", {}).get("enum", [])
            required = [r for r in schema.get("required", []) if r != "model" and r in properties]
            rules = {n: param_rules(n, size_presets(p)) for n, p in properties.items()}
            if any(rules[n].get("x-media") for n in required):
                continue
            kept = {n: r for n, r in rules.items() if not r.get("x-media")}
            for model_id in model_ids:
                if _CHANGES_A_PICTURE.search(model_id):
                    continue
                models[model_id] = {
                    "endpoint": path,
                    "vendor": vendor,
                    "schema": {"properties": kept, "required": [r for r in required if r in kept]},
                    "name": image_name(model_id),
                    "kind": IMAGE_KIND,
                }
    return dict(sorted(models.items()))


def apply_overrides(models: dict[str, dict]) -> None:
    for model_id, override in OVERRIDES.items():
        entry = models[model_id]
        for key, value in override.items():
            if key == "properties":
                for name, rules in value.items():
                    entry["schema"]["properties"][name].update(rules)
            else:
                entry[key] = value


def build_fetch_schema(spec_dir: Path) -> dict:
    spec = json.loads((spec_dir / "video-models" / "universal-video-fetch.json").read_text(encoding="utf-8"))
    schema = spec["paths"][CURRENT_ENDPOINT]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {"$schema": "http://json-schema.org/draft-07/schema#", **to_json_schema(schema)}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_catalog(path: Path, catalog: dict) -> None:
    """One model per line: compact, and a vendor change shows up as a one-line diff."""

    def section(name: str) -> str:
        lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in catalog[name].items()]
        return f"{json.dumps(name)}: {{\n" + ",\n".join(lines) + "\n}"

    path.write_text("{" + ",\n".join(section(name) for name in ("models", "image_models")) + "}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, help="the vendor spec folder (holds video-models/, image-models/ and legacy/)")
    args = parser.parse_args(argv)
    catalog = build_catalog(args.spec_dir)
    write_catalog(CATALOG_OUT, catalog)
    write_json(FETCH_SCHEMA_OUT, build_fetch_schema(args.spec_dir))
    print(
        f"{len(catalog['models'])} video models, {len(catalog['image_models'])} image models -> {CATALOG_OUT.relative_to(ROOT)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
