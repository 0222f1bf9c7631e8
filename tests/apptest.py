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


def table_view(at: AppTest) -> AppTest:
    """History shown as its table (it opens as the Gallery), for a test that reads the rows from `at.dataframe`."""
    from components import session

    at.session_state[session.HISTORY_VIEW] = "Table"
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def seed_history(data_dir) -> Store:
    """Four generations made elsewhere: two completed, one failed, one still generating."""
    from videogen.api import Answer
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
        s.add(Answer(gen_id, Status.QUEUED), request=body, server="elsewhere", account=account_of("x"), created_at=1000 + i)
        done = status is Status.COMPLETED
        s.apply(
            Answer(
                gen_id,
                status,
                error=None if done else "nope",
                credits_used=1.0,
                video_url=f"https://cdn.example.com/{i}.mp4" if done else None,
            ),
            count_poll=False,
        )
    return s


# -- sign-in ---------------------------------------------------------------------------------------

ISSUER = "https://id.example.com"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "playground",
    "client_secret": "s" * 16,
    "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
}


def signed_in(at: AppTest, claims: dict) -> AppTest:
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, **claims}
    return at


def person(sub: str, email: str | None = None, verified: bool | None = None) -> dict:
    claims = {"iss": ISSUER, "sub": sub}
    if email:
        claims["email"] = email
    if verified is not None:
        claims["email_verified"] = verified
    return claims


def owned_history(data_dir) -> Store:
    """Two finished generations of Ana's, one of Ben's, each with its video in the data folder."""
    from videogen.api import Answer
    from videogen.connection import account_of

    s = Store(data_dir)
    for i, (gen_id, sub) in enumerate([("ana-1", "ana-5f1c"), ("ana-2", "ana-5f1c"), ("ben-1", "ben-93a0")]):
        s.add(
            Answer(gen_id, Status.QUEUED),
            request={"model": "veo2", "prompt": f"{gen_id} at sea", "seed": i},
            server="elsewhere",
            account=account_of("x"),
            created_at=1000 + i,
            owner=f"{ISSUER}#{sub}",
        )
        s.apply(Answer(gen_id, Status.COMPLETED, video_url=f"https://cdn.example.com/{gen_id}.mp4"), count_poll=False)
        video = s.videos_dir / f"{gen_id}.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
        s.set_video_path(gen_id, video)
    return s


# -- custom components ---------------------------------------------------------------------------


def component_data(at: AppTest, key: str) -> dict:
    """The data a custom component (st.components.v2) keyed `key` was drawn with."""
    import json

    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.json or element.proto.mixed.json)
    raise LookupError(f"no component keyed {key!r} on the page")


def send_trigger(at: AppTest, key: str, event: str, value) -> AppTest:
    """Run the app as if the component keyed `key` had called `setTriggerValue(event, value)` in the browser.

    AppTest cannot drive a custom component's JavaScript, so this sends the message its trigger would
    (streamlit's own id for the component's trigger widget), beside every other widget's current value."""
    import json

    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    (element,) = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
    states = at._tree.get_widget_states()
    trigger = WidgetState(id=_make_trigger_id(element.proto.id, "events"))
    trigger.json_trigger_value = json.dumps([{"event": event, "value": value}])
    states.widgets.append(trigger)
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at
