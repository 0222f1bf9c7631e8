"""A recorded request as code a person can run elsewhere: curl, or Python with `requests`.

Both send the exact body this app sent (uploads included, read from the data
dir at run time rather than pasted as megabytes of base64), create on the
model's endpoint, and poll until the generation ends. The key is never in
them: they read `$AIMLAPI_API_KEY`, as the app does.
"""

from __future__ import annotations

import json
import pprint
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import catalog, media, settings
from .api import FINAL_SPELLINGS

KEY_VARIABLE = settings.KEY_VARIABLES[0]
POLL_SECONDS = 5
_SHELL_FINAL = "|".join(FINAL_SPELLINGS)  # a `case` pattern
_PYTHON_FINAL = "(" + ", ".join(f'"{s}"' for s in FINAL_SPELLINGS) + ")"  # a tuple literal


def _endpoint(body: Mapping[str, Any]) -> str:
    try:
        return catalog.get(str(body.get("model"))).endpoint
    except catalog.UnknownModelError:
        return catalog.CURRENT_ENDPOINT


def _uploads(body: Mapping[str, Any], data_dir: Path) -> dict[str, Path]:
    """Each upload reference in the body, and the file it names."""
    found: dict[str, Path] = {}
    for reference in media.references(body):
        found[reference] = media.reference_path(reference, data_dir).resolve()
    return found


def curl(body: Mapping[str, Any], *, base_url: str, data_dir: Path, poll_seconds: float = POLL_SECONDS) -> str:
    """A shell script: create with curl, then poll every few seconds until the status is final."""
    url = shlex.quote(base_url.rstrip("/") + _endpoint(body))
    return f"""# Needs curl and python3 (to read the JSON answers). The key comes from the environment.
body={_shell_body(body, data_dir)}
field() {{ python3 -c "import json, sys; a = json.load(sys.stdin); print(a.get('$1') or a.get('$2') or '')"; }}
id=$(curl -sS -X POST {url} \\
  -H "Authorization: Bearer ${KEY_VARIABLE}" -H 'Content-Type: application/json' \\
  --data-binary "$body" | field id generation_id)
echo "generation $id"
while :; do
  answer=$(curl -sS -G {url} -H "Authorization: Bearer ${KEY_VARIABLE}" --data-urlencode "generation_id=$id")
  case "$(echo "$answer" | field status)" in
    {_SHELL_FINAL}) echo "$answer"; break ;;
  esac
  sleep {poll_seconds:g}
done
"""


def _shell_body(body: Mapping[str, Any], data_dir: Path) -> str:
    """The JSON body as one shell word; each upload becomes a data URL built from its file when the script runs."""
    pieces: list[str | tuple[str, Path]] = [json.dumps(body, ensure_ascii=False)]
    for reference, path in _uploads(body, data_dir).items():
        split: list[str | tuple[str, Path]] = []
        for piece in pieces:
            if isinstance(piece, str):
                for i, text in enumerate(piece.split(json.dumps(reference))):
                    split += ([(media.mime_of(reference), path)] if i else []) + [text]
            else:
                split.append(piece)
        pieces = split
    word = ""
    for piece in pieces:
        if isinstance(piece, str):
            word += shlex.quote(piece) if piece else ""
        else:
            mime, path = piece
            word += shlex.quote(f'"data:{mime};base64,') + f"\"$(base64 < {shlex.quote(str(path))} | tr -d '\\n')\"" + shlex.quote('"')
    return word


def python(body: Mapping[str, Any], *, base_url: str, data_dir: Path, poll_seconds: float = POLL_SECONDS) -> str:
    """A Python script: create with requests, then poll until the status is final and print the answer."""
    url = base_url.rstrip("/") + _endpoint(body)
    uploads = _uploads(body, data_dir)
    literal = pprint.pformat(dict(body), sort_dicts=False, width=100)
    for reference, path in uploads.items():
        literal = literal.replace(repr(reference), f"data_url({str(path)!r}, {media.mime_of(reference)!r})")
    helper = (
        """

def data_url(path, mime):
    return f"data:{mime};base64," + base64.b64encode(open(path, "rb").read()).decode()
"""
        if uploads
        else ""
    )
    imports = "import base64\nimport os\nimport time\n\nimport requests\n" if uploads else "import os\nimport time\n\nimport requests\n"
    return f"""{imports}
URL = {url!r}
HEADERS = {{"Authorization": f"Bearer {{os.environ['{KEY_VARIABLE}']}}"}}
{helper}
body = {literal}

created = requests.post(URL, json=body, headers=HEADERS, timeout=60)
created.raise_for_status()
generation_id = created.json().get("id") or created.json()["generation_id"]
print("generation", generation_id)
while True:
    answer = requests.get(URL, params={{"generation_id": generation_id}}, headers=HEADERS, timeout=30)
    answer.raise_for_status()
    status = answer.json().get("status")
    if status in {_PYTHON_FINAL}:
        print(answer.json())
        break
    time.sleep({poll_seconds:g})
"""
