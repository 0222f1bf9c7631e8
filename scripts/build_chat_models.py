"""Build videogen/chat_models.json, the chat models "Improve prompt" may use, from the vendor's OpenAPI files.

    python scripts/build_chat_models.py ../shared/aimlapi-spec

Each file under `text-models/` describes one chat model's `POST /v1/chat/completions`. The project keeps, per
model: the id to send (the first name its `model` enum gives) and the others it answers to, a readable name,
whether it sees pictures (its user message takes `image_url` parts), and its price per million input and output
tokens. The OpenAPI files publish no prices; where the model list page (`service/complete-model-list.md`) shows
a `fixed` token price for a model, that is used, and a price it does not show stays unknown (null). The output is
committed; the app never reads the vendor files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "videogen" / "chat_models.json"
CHAT_PATH = "/v1/chat/completions"
PER_MILLION = 1_000_000

# Readable names, where the model list page gives none (it names only the models in its examples).
NAMES = {
    "gpt-4o-mini": "GPT-4o mini",
    "openai/gpt-4.1-mini-2025-04-14": "GPT-4.1 mini",
    "openai/gpt-4o": "GPT-4o",
    "google/gemini-2.5-flash": "Gemini 2.5 Flash",
}
VENDORS = {"openai": "OpenAI", "google": "Google"}


def chat_operation(spec: dict) -> dict | None:
    return spec.get("paths", {}).get(CHAT_PATH, {}).get("post")


def request_schema(operation: dict) -> dict:
    return operation["requestBody"]["content"]["application/json"]["schema"]


def model_names(schema: dict) -> list[str]:
    return list(schema["properties"]["model"].get("enum", []))


def sees_pictures(schema: dict) -> bool:
    """Whether a user message may hold an `image_url` part: what OpenAI's vision shape needs."""
    for message in schema["properties"]["messages"]["items"].get("oneOf", []):
        if message.get("properties", {}).get("role", {}).get("enum") == ["user"]:
            return '"image_url"' in json.dumps(message["properties"].get("content", {}))
    return False


def vendor_of(model_id: str) -> str:
    if "/" in model_id:
        return VENDORS.get(model_id.split("/")[0], model_id.split("/")[0])
    return "OpenAI" if model_id.startswith("gpt-") else ""


def listed_items(markdown: str) -> list[dict]:
    """Every JSON object in the model list page's code blocks that names a model."""
    items = []
    for block in re.findall(r"```json\n(.*?)```", markdown, re.S):
        try:
            item = json.loads(block)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            items.append(item)
    return items


def listed_facts(items: list[dict], names: list[str]) -> dict:
    """What the page's items say of one model (matched on id and aliases): its name and token prices."""
    facts: dict = {}
    for item in items:
        if not ({item["id"], *item.get("aliases", ())} & set(names)):
            continue
        if isinstance(item.get("info"), dict) and item["info"].get("name"):
            facts["name"] = item["info"]["name"]
        pricing = item.get("pricing")
        if isinstance(pricing, dict) and pricing.get("kind") == "fixed" and str(pricing.get("currency", "USD")).upper() == "USD":
            for unit in pricing.get("units", ()):
                if unit.get("name") == "token" and unit.get("measure") in ("input", "output") and unit.get("per"):
                    facts[f"{unit['measure']}_usd_per_million"] = round(float(unit["price"]) * PER_MILLION / float(unit["per"]), 6)
    return facts


def build(spec_dir: Path) -> dict:
    items = listed_items((spec_dir / "service" / "complete-model-list.md").read_text(encoding="utf-8"))
    models: dict[str, dict] = {}
    for file in sorted((spec_dir / "text-models").glob("*.json")):
        operation = chat_operation(json.loads(file.read_text(encoding="utf-8")))
        if operation is None:
            continue
        schema = request_schema(operation)
        names = model_names(schema)
        if not names:
            continue
        model_id = names[0]
        listed = listed_facts(items, names)
        models[model_id] = {
            "name": NAMES.get(model_id) or listed.get("name") or model_id,
            "vendor": vendor_of(model_id),
            "aliases": names[1:],
            "vision": sees_pictures(schema),
            "input_usd_per_million": listed.get("input_usd_per_million"),
            "output_usd_per_million": listed.get("output_usd_per_million"),
        }
    return {"models": dict(sorted(models.items()))}


def write(path: Path, data: dict) -> None:
    """One model per line, as catalog.json: a vendor change shows up as a one-line diff."""
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in data["models"].items()]
    path.write_text('{"models": {\n' + ",\n".join(lines) + "\n}}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, help="the vendor spec folder (holds text-models/ and service/)")
    args = parser.parse_args(argv)
    data = build(args.spec_dir)
    write(OUT, data)
    print(f"{len(data['models'])} chat models -> {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
