"""What the blind-vote and Leaderboard tests share: finished generations of several models, with their videos on
disk, made as the API's ids are ("<uuid>:<model>", so an id names its model), and the parts of a page to read."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest import AUTH, ISSUER
from videogen import catalog
from videogen.api import Answer, Status
from videogen.store import Store

VEO = "veo2"
KLING = "kling-video/v1.6/standard/text-to-video"
SORA = "openai/sora-2-t2v"
WAN_I2V = "alibaba/wan-2-6-i2v"
MODELS = (VEO, KLING, SORA)
PROMPT = "A lantern drifting on a night lake"


def finished(
    store: Store,
    models: tuple[str, ...] = MODELS,
    *,
    prompt: str = PROMPT,
    batch_id: str | None = None,
    owner: str = "",
    first: int = 0,
) -> list[str]:
    """One finished generation per model, each with a video of its own bytes in the data folder; their ids."""
    ids = []
    for n, model in enumerate(models, start=first):
        gen_id = f"{n:08x}-5c1e-4f0a-9d3b-{n:012x}:{model.replace('/', '-')}"
        request = {"prompt": prompt, "image_url": "https://example.com/still.png"} if "i2v" in model else {"prompt": prompt}
        body = catalog.validate(model, request).body
        store.add(Answer(gen_id, Status.QUEUED), request=body, server="elsewhere", created_at=1000 + n, batch_id=batch_id, owner=owner)
        store.apply(Answer(gen_id, Status.COMPLETED, video_url=f"https://cdn.example.com/{n}.mp4"), count_poll=False)
        video = store.videos_dir / f"clip-{n}.mp4"  # the page plays only files in its own videos folder
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + n.to_bytes(4, "big") * 8)
        store.set_video_path(gen_id, video)
        ids.append(gen_id)
    return ids


def signed_in(at: AppTest, sub: str, email: str) -> AppTest:
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "iss": ISSUER, "sub": sub, "email": email, "email_verified": True}
    return at


def page_text(at: AppTest) -> str:
    """Everything the run put on the page, as its messages: text, labels, help, options, and widget keys (which
    become class names in the browser's page)."""
    parts: list[str] = []

    def walk(node) -> None:
        if (proto := getattr(node, "proto", None)) is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)
