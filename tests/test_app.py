"""Page-level tests with Streamlit's AppTest: the form, submissions, cards, history filters and exports.

The app talks to a simulator over loopback HTTP, configured through the same
environment variables a user sets. AppTest does not tick run_every fragments,
so each test runs the script again after the store has moved on.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from components import history_table, services, session
from tests.apptest import ISSUER, PROMPT, owned_history, person, run, seed_history, signed_in, submit, table_view, texts
from tests.helpers import TEST_KEY, wait_until
from videogen import history
from videogen.api import Status
from videogen.simulator import Fault, JobScript
from videogen.store import Store

APP = Path(__file__).resolve().parent.parent / "app.py"


def store(data_dir) -> Store:
    return Store(data_dir)


def test_the_streamlit_internal_behind_deep_links_still_exists():
    """services.ensure_entry_point reads a Streamlit internal; an upgrade that drops it must fail here, loudly."""
    from streamlit.runtime import pages_manager

    assert hasattr(pages_manager, "PagesManager") and hasattr(pages_manager.PagesManager, "uses_pages_directory"), (
        "Streamlit no longer has streamlit.runtime.pages_manager.PagesManager.uses_pages_directory. "
        "components/services.ensure_entry_point() relies on it so that a first visit to /history on a fresh "
        "server opens inside app.py's navigation. Find the new way (or rename pages/), then update that function "
        "and this test; tests/e2e/test_playground.py::test_a_first_visit_straight_to_history_gets_the_full_app "
        "checks the result in the browser."
    )
    assert services.uses_legacy_pages_directory() in (True, False)


# -- the form ---------------------------------------------------------------


def test_form_has_the_controls_and_labels(app):
    at = run(app)
    assert at.text_area(key="gen_prompt").label == "Prompt"
    # No max_chars: the browser would drop a longer paste without a word (see the long-paste test).
    assert not at.text_area(key="gen_prompt").max_chars
    assert "4,000 characters" in at.text_area(key="gen_prompt").help
    assert at.segmented_control(key="gen_aspect_ratio").label == "Aspect ratio"
    assert at.segmented_control(key="gen_aspect_ratio").options == ["16:9 landscape", "9:16 portrait"]
    assert at.segmented_control(key="gen_duration").label == "Duration (s)"
    assert [int(o) for o in at.segmented_control(key="gen_duration").options] == [5, 6, 7, 8]
    assert at.expander[0].label == "Advanced"
    assert at.button(key="generate").label == "Generate"
    assert at.text_input(key="gen_seed").label == "Seed"
    assert at.toggle(key="gen_enhance_prompt").value is True


@pytest.mark.parametrize(
    "prompt, fields, message",
    [
        ("", {}, "Prompt is required"),
        ("   \n  ", {}, "Prompt is required"),
        (PROMPT, {"seed": "twelve"}, "Seed must be a whole number"),
        (PROMPT, {"seed": "-3"}, "Seed must be between 0 and 4294967295"),
        (PROMPT, {"seed": "99999999999"}, "Seed must be between 0 and 4294967295"),
    ],
)
def test_invalid_input_gets_a_message_and_sends_nothing(app, sim, prompt, fields, message):
    at = submit(run(app), prompt, **fields)
    errors = [e.value for e in at.error]
    assert any(message in e.replace("\\", "") for e in errors), errors
    assert sim.count("create") == 0


def test_a_huge_prompt_from_a_link_is_refused(app, sim):
    """The browser's text area takes at most 4,000 characters; a link can carry any number."""
    app.query_params["prompt"] = "x" * 100_000
    at = run(app)
    notice = " ".join(i.value for i in at.info).replace("\\", "")
    assert "ignored" in notice and "100,000 characters long; the limit is 4,000" in notice
    assert at.text_area(key="gen_prompt").value == ""
    at.button(key="generate").click()
    at = run(at)
    assert any("Prompt is required" in e.value for e in at.error)
    assert sim.count("create") == 0


@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_a_pasted_text_over_the_limit_is_kept_and_its_length_named(app, sim, field):
    long_text = ("a slow pan over the harbour " * 440).strip()  # 12,319 characters
    at = run(app)
    if field == "prompt":
        at = submit(at, long_text)
    else:
        at = submit(at, PROMPT, negative_prompt=long_text)
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert f"{len(long_text):,} characters long; the limit is 4,000" in errors
    assert "required" not in errors
    assert at.text_area(key=f"gen_{field}").value == long_text  # kept, to be shortened
    assert sim.count("create") == 0


@pytest.mark.parametrize("key, value", [("gen_duration", 99), ("gen_duration", "6"), ("gen_duration", None)])
def test_values_forged_into_session_state_never_reach_the_server(app, sim, data_dir, key, value):
    at = run(app)
    at.session_state[key] = value
    at = run(at)
    at.text_area(key="gen_prompt").input(PROMPT)
    at.button(key="generate").click()
    at = run(at)
    (record,) = store(data_dir).records()
    assert record.request["duration"] in (5, 6, 7, 8) and record.request["aspect_ratio"] in ("16:9", "9:16")
    assert sim.jobs[record.id].body == record.request


def test_rerun_of_a_request_outside_the_rules_resets_the_bad_values(app, sim, data_dir):
    from videogen.api import Answer
    from videogen.connection import account_of

    odd = {"model": "veo2", "prompt": "Old request", "aspect_ratio": "1:1", "duration": 10, "enhance_prompt": True}
    Store(data_dir).add(Answer("odd:veo2", Status.FAILED, error="x"), request=odd, server="old", account=account_of("k"))
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "odd:veo2"
    at = run(app)
    next(b for b in at.button if b.label == "Re-run").click()
    at = run(at)
    notice = " ".join(i.value for i in at.info)
    assert "not available" in notice
    assert at.text_area(key="gen_prompt").value == "Old request"
    assert at.segmented_control(key="gen_duration").value == 5
    assert sim.count("create") == 0


def test_link_parameters_fill_the_form_and_bad_ones_are_named(app, sim):
    app.query_params.update({"prompt": "From a link", "duration": "7", "aspect_ratio": "9:16"})
    at = run(app)
    assert at.text_area(key="gen_prompt").value == "From a link"
    assert at.segmented_control(key="gen_duration").value == 7
    assert at.session_state["gen_aspect_ratio"] == "9:16"
    app.query_params.update({"duration": "99", "seed": "abc"})
    at = run(app)
    notice = " ".join(i.value for i in at.info).replace("\\", "")
    assert "ignored" in notice and "duration" in notice and "seed" in notice
    assert at.segmented_control(key="gen_duration").value == 7  # unchanged
    assert sim.count("create") == 0


# -- submitting -------------------------------------------------------------


def test_a_submission_creates_one_generation_and_shows_a_card(app, sim, data_dir):
    at = submit(run(app), PROMPT, aspect_ratio="9:16", duration=7, seed="42", negative_prompt="blur")
    assert sim.count("create") == 1
    (record,) = store(data_dir).records()
    assert record.request == {
        "model": "veo2",
        "prompt": PROMPT,
        "aspect_ratio": "9:16",
        "duration": 7,
        "seed": 42,
        "negative_prompt": "blur",
        "enhance_prompt": True,
    }
    assert PROMPT in texts(at)
    assert any("9:16 · 7 s · seed 42" in m.value.replace("\\", "") for m in at.markdown)  # shown escaped, as literal text


def test_the_same_submission_twice_in_a_row_creates_one_generation(app, sim):
    at = submit(run(app))
    at.button(key="generate").click()  # a double click or a second Enter: the same request again at once
    at = run(at)
    assert sim.count("create") == 1


def test_card_goes_from_pending_to_a_playable_video(app, sim, data_dir):
    at = submit(run(app))
    assert any("Queued" in m.value for m in at.markdown)
    assert wait_until(lambda: all(r.video_path for r in store(data_dir).records()), timeout=30)
    at = run(at)
    assert len(at.get("video")) == 1
    assert [b.label for b in at.download_button] == ["Download"]
    assert any(b.label == "Re-run" for b in at.button)


def test_failed_generation_shows_the_servers_message_as_text(app, sim, data_dir):
    sim.faults.script(JobScript(error="Refused: <img src=x onerror=alert(1)> [x](javascript:alert(1))"))
    at = submit(run(app))
    assert wait_until(lambda: store(data_dir).records()[0].status is Status.FAILED, timeout=30)
    at = run(at)
    assert "The generation failed." in [e.value for e in at.error]
    assert "GenerationError: Refused: <img src=x onerror=alert(1)> [x](javascript:alert(1))" in texts(at)


def test_rerun_loads_parameters_back_into_the_form(app, sim, data_dir):
    at = submit(run(app), PROMPT, duration=8, seed="7")
    assert wait_until(lambda: all(r.video_path for r in store(data_dir).records()), timeout=30)
    at = run(at)
    at.text_area(key="gen_prompt").input("something else")
    at.segmented_control(key="gen_duration").set_value(5)
    at = run(at)
    next(b for b in at.button if b.label == "Re-run").click()
    at = run(at)
    assert at.text_area(key="gen_prompt").value == PROMPT
    assert at.segmented_control(key="gen_duration").value == 8
    assert at.text_input(key="gen_seed").value == "7"


def test_outcome_unknown_is_said_plainly_and_the_person_decides(app, sim):
    sim.faults.inject("create", Fault.http(503))
    at = submit(run(app))
    warning = " ".join(w.value for w in at.warning)
    assert "could not confirm whether this generation started" in warning
    assert sim.count("create") == 1
    assert any(b.label == "Submit again" for b in at.button)


def test_rate_limit_on_create_says_nothing_was_created(app, sim):
    sim.faults.inject("create", Fault.http(429, retry_after=20))
    at = submit(run(app))
    warning = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Nothing was created" in warning and "20 s" in warning


def test_a_refused_key_shows_one_banner(app, sim):
    sim.api_keys = {"some-other-key-000"}
    at = submit(run(app))
    banners = [e.value for e in at.error if "401" in e.value]
    assert len(banners) == 1
    assert sim.count("create") == 1


def test_pending_generations_from_elsewhere_are_shown(app, sim, data_dir):
    at = run(app)
    other_tab = run(AppTest.from_file(str(APP), default_timeout=30))
    submit(other_tab, "Submitted from another tab")
    at = run(at)
    assert "Submitted from another tab" in texts(at)


def prompts_on_cards(at: AppTest, among: tuple[str, ...]) -> list[str]:
    return [t for t in texts(at) if t in among]


def test_a_reload_keeps_the_recent_finished_generations_after_this_tabs_own(app, sim, data_dir):
    owned_history(data_dir)
    made_before = ("ben-1 at sea", "ana-2 at sea", "ana-1 at sea")
    at = run(app)  # a new tab session: a reload, or back from following a Compare link
    assert prompts_on_cards(at, made_before) == list(made_before)  # newest first
    assert not [c for c in at.caption if "Earlier in this history" in c.value]
    at = submit(at, "Made in this tab")
    shown = prompts_on_cards(at, ("Made in this tab", *made_before))
    assert shown == ["Made in this tab", *made_before]
    assert [c for c in at.caption if "Earlier in this history" in c.value]


def test_signed_in_a_reload_keeps_only_ones_own_recent_generations(app, data_dir):
    owned_history(data_dir)
    at = run(signed_in(app, person("ben-93a0", "ben@example.com", True)))
    assert prompts_on_cards(at, ("ben-1 at sea", "ana-2 at sea", "ana-1 at sea")) == ["ben-1 at sea"]


# -- history ----------------------------------------------------------------


def history_page(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    return run(table_view(app))


def shown_ids(at: AppTest) -> list[str]:
    return at.dataframe[0].value["id"].tolist()


def test_history_lists_everything_newest_first(app, data_dir):
    at = history_page(app, data_dir)
    df = at.dataframe[0].value
    assert shown_ids(at) == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]
    assert {"created", "status", "prompt", "aspect_ratio", "duration", "seed", "seconds_taken", "credits", "video"} <= set(df)
    assert df.loc[df["id"] == "a:veo2", "video"].item() == "history?gen=a%3Aveo2"
    assert [b.label for b in at.download_button] == ["Export CSV", "Export JSON"]  # the spend panel is closed
    at.session_state[history_table.SPEND_PANEL] = True
    at = run(at)
    assert [b.label for b in at.download_button] == ["Export CSV", "Export JSON", "Export spend CSV"]


@pytest.mark.parametrize(
    "widget, value, expected",
    [
        ("hist_status", ["completed"], ["b:veo2", "a:veo2"]),
        ("hist_ratio", ["9:16"], ["c:veo2", "b:veo2"]),
        ("hist_duration", [8], ["d:veo2", "b:veo2"]),
        ("hist_search", "FOX", ["c:veo2", "a:veo2"]),
    ],
)
def test_history_filters(app, data_dir, widget, value, expected):
    at = history_page(app, data_dir)
    if widget == "hist_search":
        at.text_input(key=widget).input(value)
    else:
        at.multiselect(key=widget).set_value(value)
    at = run(at)
    assert shown_ids(at) == expected
    assert f"Showing {len(expected)} of 4" in " ".join(c.value for c in at.caption)


def test_filters_combine(app, data_dir):
    at = history_page(app, data_dir)
    at.multiselect(key="hist_ratio").set_value(["9:16"])
    at.text_input(key="hist_search").input("fox")
    assert shown_ids(run(at)) == ["c:veo2"]


def test_a_link_selects_a_generation_and_shows_its_details(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "b:veo2"
    at = run(app)
    assert "A city at night" in texts(at)
    ids, curl, python = (c.value for c in at.code)  # the API id, then the request as curl and as Python
    assert ids == "b:veo2"
    assert "curl -sS -X POST" in curl and "A city at night" in curl and "AIMLAPI_API_KEY" in curl
    assert "requests.post" in python and "'model': 'veo2'" in python
    assert TEST_KEY not in curl + python
    assert any(b.label == "Delete" for b in at.button)


def test_a_video_saved_by_another_process_out_of_reach_is_named_and_its_link_offered(app, data_dir):
    """On a shared database with data folders that are not shared: the row says saved, the file is elsewhere."""
    store = seed_history(data_dir)
    store.set_video_path("b:veo2", data_dir.parent / "another-machine" / "videos" / "b.mp4")
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "b:veo2"
    at = run(app)
    assert any("No copy of this video on this server" in w.value for w in at.warning)
    links = [e for e in at.get("link_button") if "Open the API's link" in e.proto.label]
    assert links and links[0].proto.url == "https://cdn.example.com/1.mp4"


def test_an_unknown_link_is_explained(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "../../etc/passwd"
    at = run(app)
    assert any("not in this history" in w.value for w in at.warning)


def test_history_exports_hold_ids_and_exact_bodies(data_dir):
    import json

    from videogen import history

    s = seed_history(data_dir)
    frame = history.filter_frame(history.frame(s.table_rows()), aspect_ratios=["9:16"])
    rows = s.find(frame["id"].tolist())
    exported = json.loads(history.to_json(rows))
    assert [r["id"] for r in exported] == ["c:veo2", "b:veo2"]
    assert exported[1]["request"] == s.get("b:veo2").request
    csv = history.to_csv(rows).decode()
    assert csv.splitlines()[0].startswith("id,model,created")
    assert "b:veo2" in csv and '"{""aspect_ratio"": ""9:16""' in csv


def test_exports_and_the_table_carry_who_made_each(data_dir):
    import io

    import pandas as pd

    from videogen import history
    from videogen.api import Answer

    s = Store(data_dir)
    s.add(Answer("mine", Status.QUEUED), request={"model": "veo2", "prompt": "p"}, server="x", owner="ana@example.com")
    s.add(Answer("old", Status.QUEUED), request={"model": "veo2", "prompt": "q"}, server="x")
    assert {r["id"]: r["owner"] for r in json.loads(history.to_json(s.records()))} == {"mine": "ana@example.com", "old": ""}
    table = pd.read_csv(io.BytesIO(history.to_csv(s.records())), keep_default_na=False)
    assert dict(zip(table["id"], table["owner"], strict=True)) == {"mine": "ana@example.com", "old": ""}
    frame = history.frame(s.table_rows())
    assert history.filter_frame(frame, owner="ana@example.com")["id"].tolist() == ["mine"]


def test_history_survives_an_app_restart(app, sim, data_dir):
    submit(run(app))
    services.connections().close_all()
    again = AppTest.from_file(str(APP), default_timeout=30)
    again.switch_page("pages/history.py")
    at = run(table_view(again))
    assert shown_ids(at) == [r.id for r in store(data_dir).records()]


def test_demo_mode_says_so_and_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "demo"))
    monkeypatch.delenv("AIMLAPI_API_KEY", raising=False)
    monkeypatch.delenv("AIML_API_KEY", raising=False)
    monkeypatch.setenv("PLAYGROUND_DEMO_SECONDS", "0.5")
    try:
        at = run(AppTest.from_file(str(APP), default_timeout=30))
        assert any("Demo mode" in i.value for i in at.info)
        at = submit(at)
        assert wait_until(lambda: all(r.video_path for r in Store(tmp_path / "demo").records()), timeout=30)
        at = run(at)
        assert len(at.get("video")) == 1
        at.switch_page("pages/history.py")
        at = run(at)
        assert any("Demo mode" in i.value for i in at.info)
    finally:
        services.connections().close_all()


def test_delete_asks_first(app, data_dir):
    """The confirmation is a dialog, which reruns on its own; AppTest runs whole scripts, so the
    confirmed delete itself is checked in the browser (e2e/test_playground.py)."""
    s = seed_history(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "b:veo2"
    at = run(app)
    at.button(key="detail-delete").click()
    at = run(at)
    assert s.get("b:veo2") is not None
    assert any("cannot be undone" in m.value for m in at.markdown)


def test_a_running_generation_cannot_be_deleted(app, data_dir):
    seed_history(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "d:veo2"  # still generating
    at = run(app)
    assert at.button(key="detail-delete").disabled


# -- iterating: a new seed, a star, a note -------------------------------------------


def details_of(app, data_dir, gen_id: str):
    """History with `gen_id` selected, over the seeded history; returns (store, the page after one action)."""
    store = seed_history(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["gen"] = gen_id
    return store, run(table_view(app))


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return run(at)


def test_vary_seed_sends_the_same_request_with_a_new_seed_and_names_its_parent(app, sim, data_dir):
    store, at = details_of(app, data_dir, "b:veo2")
    at = click(at, "Vary seed")
    assert sim.count("create") == 1
    (child,) = [r for r in store.records() if r.parent_id == "b:veo2"]
    parent = store.get("b:veo2")
    assert {k: v for k, v in child.request.items() if k != "seed"} == {k: v for k, v in parent.request.items() if k != "seed"}
    assert child.request["seed"] != parent.request["seed"] and 0 <= child.request["seed"] <= 4294967295
    at.switch_page("pages/generate.py")
    at = run(at)
    assert "A new seed for generation `b`" in " ".join(m.value for m in at.caption)


def test_a_star_and_a_note_are_kept_filtered_and_exported(app, data_dir):
    store, at = details_of(app, data_dir, "a:veo2")
    at = click(at, "Star")
    at.text_input(key="note-a:veo2").input("Best fox so far; try 9:16").run()
    record = store.get("a:veo2")
    assert record.starred and record.note == "Best fox so far; try 9:16"
    assert any(b.label == "Starred" for b in at.button)
    at.toggle(key="hist_starred").set_value(True)
    at = run(at)
    assert shown_ids(at) == ["a:veo2"]
    exported = json.loads(history.to_json(store.find(["a:veo2"])))
    assert exported[0]["starred"] is True and exported[0]["note"] == "Best fox so far; try 9:16"


# -- hostile input: what reaches st.image and st.video -------------------------------------------

I2V = "kling-video/v1.6/standard/image-to-video"


def image_urls(at: AppTest) -> list[str]:
    """The address of every image the page was given (st.image), local files served by Streamlit included."""
    return [url for element in at.get("image") for url in element.value]


@pytest.mark.parametrize(
    "typed", ["/etc/passwd", "{data}/history.sqlite3", "{secret}", "../../x.png", "file:///etc/hosts", "file://{secret}"]
)
def test_a_file_path_typed_as_an_image_link_is_never_drawn_and_is_named(app, sim, data_dir, tmp_path, typed):
    """st.image reads and serves a local file when its text names one: a secret PNG would be shown."""
    secret = tmp_path / "secret.png"
    Image.new("RGB", (64, 64), (250, 0, 0)).save(secret)
    app.query_params["model"] = I2V
    at = run(app)
    at.text_input(key="gen_image_url").input(typed.format(data=data_dir, secret=secret))
    at = run(at)
    assert image_urls(at) == []
    assert any("That is a file path, not a link" in e.value.replace("\\", "") for e in at.error)
    at.text_area(key="gen_prompt").input(PROMPT)
    at.button(key="generate").click()
    at = run(at)
    assert image_urls(at) == [] and sim.count("create") == 0


def test_a_checked_link_is_drawn_by_the_browser_and_an_upload_from_its_own_bytes(app, sim, data_dir):
    from videogen import catalog, media

    app.query_params["model"] = I2V
    at = run(app)
    at.text_input(key="gen_image_url").input("https://cdn.example.com/cat.png")
    at = run(at)
    assert image_urls(at) == ["https://cdn.example.com/cat.png"]  # handed to the browser as it is
    picture = io.BytesIO()
    Image.new("RGB", (640, 360), (20, 120, 200)).save(picture, "PNG")
    upload = media.save_image(picture.getvalue(), catalog.get(I2V).param("image_url"), data_dir)
    at.session_state["gen_image_url__ref"] = [upload.reference]
    at = run(at)
    (served,) = image_urls(at)
    assert served.startswith("/mock/media/")  # the app's own bytes, served by Streamlit
    # A reference is a name in uploads/ and nothing else: a forged one draws nothing.
    at.session_state["gen_image_url__ref"] = ["upload:../../../etc/passwd.png", "/etc/passwd"]
    at.text_input(key="gen_image_url").input("")
    at = run(at)
    assert image_urls(at) == []


def finished_on_card(data_dir, gen_id: str, *, video_url: str | None, video_path=None):
    from videogen.api import Answer
    from videogen.connection import account_of

    s = Store(data_dir)
    s.add(Answer(gen_id, Status.QUEUED), request={"model": "veo2", "prompt": f"card {gen_id}"}, server="elsewhere", account=account_of("x"))
    s.apply(Answer(gen_id, Status.COMPLETED, video_url=video_url), count_poll=False)
    if video_path is not None:
        s.set_video_path(gen_id, video_path)
    return s


@pytest.mark.parametrize(
    "video_url, video_path, plays",
    [
        ("https://cdn.example.com/v.mp4", None, "https://cdn.example.com/v.mp4"),  # not copied yet: the CDN link
        ("/etc/passwd", None, None),
        ("file:///etc/passwd", None, None),
        ("http://cdn.example.com/v.mp4", None, None),
        ("https://cdn.example.com/v.mp4", "/etc/passwd", None),  # a row naming a file outside the data folder
    ],
)
def test_a_card_plays_only_a_checked_https_link_or_the_apps_own_copy(app, data_dir, video_url, video_path, plays):
    finished_on_card(data_dir, "v:veo2", video_url=video_url, video_path=video_path)
    at = run(app)
    at.session_state["my_generations"] = ["v:veo2"]
    at = run(at)
    assert "card v:veo2" in texts(at)
    assert [v.proto.url for v in at.get("video")] == ([plays] if plays else [])
    if video_path:
        assert any("No copy of this video on this server" in w.value for w in at.warning)


def test_parameter_values_in_a_cards_header_are_literal(app, data_dir):
    from videogen.api import Answer
    from videogen.connection import account_of

    hostile = {
        "model": "[m](https://evil.example)",
        "prompt": "p",
        "duration": "5 ![x](https://evil.example/x.png)",
        "aspect_ratio": ":red[16:9]",
        "seed": "<b>7</b>\n\n# big",
    }
    Store(data_dir).add(Answer("h:veo2", Status.FAILED, error="no"), request=hostile, server="elsewhere", account=account_of("x"))
    at = run(app)
    at.session_state["my_generations"] = ["h:veo2"]
    at = run(at)
    (header,) = [m.value for m in at.markdown if "-badge[" in m.value and ":gray[" in m.value]
    parameters = header.split(":gray[", 1)[1]
    assert "\\[m\\]\\(https\\:" in parameters and "\\!\\[x\\]" in parameters and "\\:red\\[16\\:9\\]" in parameters
    assert "\\<b\\>7\\<\\/b\\>" in parameters and "\n" not in header  # one line: the header's :gray[...] stays whole
    assert "5 ![x](https://evil.example/x.png) s" in header.replace("\\", "")


def test_every_text_column_of_the_csv_is_inert_and_the_json_stays_exact(data_dir):
    import csv

    from videogen.api import Answer

    s = Store(data_dir)
    s.add(Answer("-G3b3vVKdoC42fMNeK1T5", Status.QUEUED), request={"model": "veo2", "prompt": "=1+1"}, server="x", owner="@evil#+1")
    s.apply(Answer("-G3b3vVKdoC42fMNeK1T5", Status.COMPLETED, video_url='=HYPERLINK("https://evil")'), count_poll=False)
    s.set_note("-G3b3vVKdoC42fMNeK1T5", "'quoted")
    s.add(
        Answer("+child", Status.FAILED, error="-2+3"),
        request={"model": "veo2", "prompt": "\tTab"},
        server="x",
        parent_id="-G3b3vVKdoC42fMNeK1T5",
    )
    rows = list(csv.DictReader(io.StringIO(history.to_csv(s.records()).decode())))
    cells = [value for row in rows for name, value in row.items() if name != "request"]
    assert not [c for c in cells if c and c[0] in "=+-@\t\r"], cells
    parent = next(r for r in rows if r["id"] == "'-G3b3vVKdoC42fMNeK1T5")
    assert (parent["prompt"], parent["video_url"], parent["owner"], parent["note"]) == (
        "'=1+1",
        '\'=HYPERLINK("https://evil")',
        "'@evil#+1",
        "''quoted",
    )
    child = next(r for r in rows if r["id"] == "'+child")
    assert (child["parent_id"], child["error"], child["prompt"]) == ("'-G3b3vVKdoC42fMNeK1T5", "'-2+3", "'\tTab")
    # Taking the one quote off gives the value back; the JSON export holds it as it is.
    exported = {r["id"]: r for r in json.loads(history.to_json(s.records()))}
    assert {i[1:] for i in (parent["id"], child["id"])} == set(exported)
    assert exported["-G3b3vVKdoC42fMNeK1T5"]["note"] == parent["note"][1:] == "'quoted"


# -- sign-in: who someone is, and what is theirs ----------------------------------------------------


def sidebar_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_signed_in_the_owner_is_the_issuer_and_subject_and_the_email_is_only_shown(app, sim, data_dir):
    at = submit(run(signed_in(app, person("ana-5f1c", "ana@example.com"))))
    (record,) = store(data_dir).records()
    assert record.owner == f"{ISSUER}#ana-5f1c"
    assert "`ana@example.com (unverified)`" in sidebar_text(at)  # no email_verified claim: shown marked
    at.user = {"is_logged_in": True, **person("ana-5f1c", "ana@example.com", verified=True)}
    at = run(at)
    assert "`ana@example.com`" in sidebar_text(at) and "unverified" not in sidebar_text(at)


def test_a_provider_that_names_no_subject_gets_nothing_of_the_history(app, sim, data_dir):
    seed_history(data_dir)
    at = run(signed_in(app, {"email": "ana@example.com", "email_verified": True}))
    assert any("did not say who you are" in e.value for e in at.error)
    assert not at.dataframe and not at.get("video") and not [t for t in at.title if t.value in ("Generate", "History")]


def test_an_unverified_email_is_never_an_identity(app, data_dir):
    owned_history(data_dir)
    run(signed_in(AppTest.from_file(str(APP), default_timeout=30), person("ana-5f1c", "ana@example.com", True)))
    # Someone else whose provider lets them type Ana's address: shown as typed, marked, and owning nothing.
    mallory = signed_in(app, person("mallory-1", "ana@example.com"))
    mallory.switch_page("pages/history.py")
    at = run(table_view(mallory))
    assert "`ana@example.com (unverified)`" in sidebar_text(at)
    assert any("Nothing of yours yet" in i.value for i in at.info)
    at.toggle(key=session.TEAM_VIEW).set_value(True)
    at.query_params["gen"] = "ana-1"
    at = run(at)
    made_by = dict(zip(at.dataframe[0].value["id"], at.dataframe[0].value["owner"], strict=True))
    assert made_by["ana-1"] == "ana@example.com"  # Ana's name as she signed in, not the identity
    assert at.button(key="detail-delete").disabled and at.button(key="detail-star-ana-1").disabled
    assert at.text_input(key="note-ana-1").disabled
    assert "Only `ana@example.com` can delete it." == at.button(key="detail-delete").help


def test_compare_and_the_video_picker_keep_to_ones_own_until_the_team_view(app, data_dir):
    owned_history(data_dir)
    ben = signed_in(app, person("ben-93a0", "ben@example.com", True))
    ben.switch_page("pages/compare.py")
    ben.query_params["ids"] = "ana-1,ben-1"
    at = run(ben)
    assert any("Made by someone else, so left out: ana-1" in i.value.replace("\\", "") for i in at.info)
    (picker,) = at.multiselect
    assert picker.value == ["ben-1"] and len(picker.options) == 1
    at.toggle(key=session.TEAM_VIEW).set_value(True)
    at.query_params["ids"] = "ana-1,ben-1"
    at = run(at)
    assert len(at.multiselect[0].options) == 3 and at.multiselect[0].value == ["ana-1", "ben-1"]
    assert len(at.get("video")) == 2

    video_model = "alibaba/happyhorse-1-0"  # takes a video as input: offers "Use a finished generation"
    at.toggle(key=session.TEAM_VIEW).set_value(False)
    at.switch_page("pages/generate.py")
    at.query_params.clear()
    at.query_params["model"] = video_model
    at = run(at)
    assert [o for o in at.selectbox(key="gen_video_url__pick").options] == ["ben-1 at sea · veo2"]
    at.toggle(key=session.TEAM_VIEW).set_value(True)
    at = run(at)
    assert len(at.selectbox(key="gen_video_url__pick").options) == 3


def test_a_rerun_with_an_edited_prompt_is_a_version_whose_lineage_shows_the_word_diff(app, sim, data_dir):
    store, at = details_of(app, data_dir, "a:veo2")
    at = click(at, "Re-run")  # the form, loaded from a:veo2, on the Generate page
    assert [t.value for t in at.title] == ["Generate"]
    at.switch_page("pages/generate.py")  # AppTest runs its own page next, not the one the script switched to
    at = submit(at, "A fox on ice at dawn")
    assert sim.count("create") == 1
    (child,) = [r for r in store.records() if r.parent_id == "a:veo2"]
    assert isinstance(child.request["seed"], int)  # a seed is always recorded
    at = submit(at, "A fox on ice at dawn, slow pan")  # the next edit is the child's version
    (grandchild,) = [r for r in store.records() if r.parent_id == child.id]

    at.switch_page("pages/history.py")
    at.query_params["gen"] = grandchild.id
    at = run(table_view(at))
    assert any("A version of generation" in c.value and "edited prompt" in c.value for c in at.caption)
    (expander,) = [e for e in at.expander if e.label == "Lineage"]
    diffs = [h.proto.body for h in at.get("html") if "lineage-diff" in h.proto.body and "<ins>" in h.proto.body]
    assert any("<ins>, slow pan</ins>" in d for d in diffs), diffs  # the grandchild against the child
    assert any("<del>in snow</del>" in d for d in diffs), diffs  # the child against the first
    assert "3 versions" in " ".join(c.value for c in expander.caption)


def test_each_card_of_a_family_opens_its_lineage_on_the_generate_page(app, data_dir):
    from videogen.api import Answer

    store = seed_history(data_dir)
    parent = store.get("a:veo2")
    body = {**parent.request, "prompt": "A fox in snow, slow pan"}
    store.add(Answer("e:veo2", Status.QUEUED), request=body, server="elsewhere", parent_id="a:veo2", created_at=2000)
    store.apply(Answer("e:veo2", Status.COMPLETED, credits_used=1.0, video_url="https://cdn.example.com/e.mp4"), count_poll=False)
    at = run(app)  # a reload: the recent finished ones are cards, two of them one family

    popovers = [p for p in at.get("popover") if p.proto.popover.label == "Lineage"]
    assert len(popovers) == 2  # the parent's card and the version's; the others have no family
    diffs = [h.proto.body for h in at.get("html") if "lineage-diff" in h.proto.body and "<ins>" in h.proto.body]
    assert any("<ins>, slow pan</ins>" in d for d in diffs), diffs
    assert sum("2 versions" in c.value for c in at.caption) == 2


def test_recall_steps_back_through_earlier_prompts_and_forward_to_ones_own_text(app, sim, data_dir):
    seed_history(data_dir)  # prompts, newest first: Ocean waves, Foxes playing, A city at night, A fox in snow
    at = run(app)
    at.text_area(key="gen_prompt").set_value("my own draft")  # typed, not sent: the form's buttons carry it
    at = click(at, "Earlier prompt")
    assert at.text_area(key="gen_prompt").value == "Ocean waves"
    at = click(at, "Earlier prompt")
    assert at.text_area(key="gen_prompt").value == "Foxes playing"
    at = click(at, "Later prompt")
    at = click(at, "Later prompt")
    assert at.text_area(key="gen_prompt").value == "my own draft"
    at = click(at, "Later prompt")  # nothing later than one's own text
    assert at.text_area(key="gen_prompt").value == "my own draft"
    assert sim.count("create") == 0
