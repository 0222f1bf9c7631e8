"""Driving the app through Streamlit's AppTest as a person would: run it, fill the form, read what it shows."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from videogen.api import Status
from videogen.store import Store

PROMPT = "A red fox trotting through fresh snow at dawn"


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit(at: AppTest, prompt: str = PROMPT, **fields) -> AppTest:
    """Fill the form like a person would and press Generate. Fields use the form's keys without the prefix."""
    at.text_area(key="gen_prompt").input(prompt)
    for name, value in fields.items():
        if name in ("aspect_ratio", "duration"):
            at.segmented_control(key=f"gen_{name}").set_value(value)
        elif name == "enhance_prompt":
            at.toggle(key="gen_enhance_prompt").set_value(value)
        elif name == "seed":
            at.text_input(key="gen_seed").input(value)
        else:
            at.text_area(key=f"gen_{name}").input(value)
    at.button(key="generate").click()
    return run(at)


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def seed_history(data_dir) -> Store:
    """Four generations made elsewhere: two completed, one failed, one still generating."""
    from videogen.api import Generation
    from videogen.connection import account_of

    s = Store(data_dir)
    rows = [
        ("a:veo2", "A fox in snow", "16:9", 5, Status.COMPLETED),
        ("b:veo2", "A city at night", "9:16", 8, Status.COMPLETED),
        ("c:veo2", "Foxes playing", "9:16", 6, Status.FAILED),
        ("d:veo2", "Ocean waves", "16:9", 8, Status.GENERATING),
    ]
    for i, (gen_id, prompt, ratio, duration, status) in enumerate(rows):
        body = {"model": "veo2", "prompt": prompt, "aspect_ratio": ratio, "duration": duration, "enhance_prompt": True, "seed": i}
        s.add(Generation(gen_id, Status.QUEUED), request=body, server="elsewhere", account=account_of("x"), created_at=1000 + i)
        done = status is Status.COMPLETED
        s.apply(Generation(gen_id, status, error=None if done else "nope", credits_used=1.0,
                           video_url=f"https://cdn.example.com/{i}.mp4" if done else None), count_poll=False)
    return s
