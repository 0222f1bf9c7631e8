"""The model picker and the forms built from the vendor's schemas, for every model in the catalog (AppTest).

AppTest cannot drive a file upload; uploads are covered by tests/test_media.py
and in the browser by tests/e2e/test_models.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from components import form_builder
from tests.apptest import PROMPT, run, submit, texts
from tests.helpers import minimal_body
from videogen import catalog

ALL_MODELS = sorted(catalog.models())
I2V = "kling-video/v1.6/standard/image-to-video"


def errors_of(at) -> str:
    return " ".join(e.value for e in at.error).replace("\\", "")


def notices_of(at) -> str:
    return " ".join(i.value for i in [*at.info, *at.warning]).replace("\\", "")


def open_model(app, model_id: str):
    app.query_params["model"] = model_id
    return run(app)


# -- the picker ------------------------------------------------------------------


def test_the_picker_defaults_to_veo2_and_shows_name_kind_and_id(app):
    at = run(app)
    picker = at.selectbox(key="gen_model")
    assert picker.label == "Model" and picker.value == "veo2"
    assert len(picker.options) == len(ALL_MODELS)
    kling = next(o for o in picker.options if o.endswith("— kling-video/v1.6/standard/text-to-video"))
    assert "Kling 1.6 Standard · text to video" in kling
    assert at.segmented_control(key="gen_model_kind").options == ["Text to video", "Image to video", "Video to video"]


def test_options_are_grouped_by_vendor():
    from components.model_picker import ordered_ids

    vendors = [catalog.get(i).vendor for i in ordered_ids()]
    # Each vendor's models stand together: once a vendor is left behind it never comes back.
    seen: list[str] = []
    for vendor in vendors:
        if not seen or seen[-1] != vendor:
            assert vendor not in seen, f"{vendor} appears in two places"
            seen.append(vendor)


def test_the_kind_filter_narrows_the_list_and_moves_the_choice(app):
    at = run(app)
    at.segmented_control(key="gen_model_kind").set_value("image-to-video")
    at = run(at)
    picker = at.selectbox(key="gen_model")
    assert all("image to video" in o for o in picker.options)
    assert catalog.get(at.session_state["gen_model"]).kind == "image-to-video"


def test_the_link_carries_the_model_and_an_unknown_one_is_named(app):
    at = open_model(app, I2V)
    assert at.session_state["gen_model"] == I2V
    at.query_params["model"] = "no-such/model"
    at = run(at)
    assert at.session_state["gen_model"] == "veo2"
    assert "no-such/model" in notices_of(at) and "Veo 2" in notices_of(at)


def test_switching_model_keeps_what_applies_and_names_what_is_dropped(app, sim):
    # A form's values reach the server when it is submitted: generate once, then switch.
    at = submit(run(app), PROMPT, duration=8, seed="77")
    assert sim.count("create") == 1
    at.selectbox(key="gen_model").set_value("kling-video/v1.6/standard/text-to-video")
    at = run(at)
    notice = notices_of(at)
    assert "Switched to Kling 1.6 Standard" in notice
    assert "Prompt" in notice.split("Dropped")[0]  # kept
    assert "Duration (s) 8" in notice.split("Dropped")[1]  # kling takes 5 or 10
    assert at.text_area(key="gen_prompt").value == PROMPT
    assert at.session_state["gen_duration"] in (5, 10)


def test_a_switch_leaves_no_state_behind_from_the_model_before(app):
    # Streamlit's text widgets read the whole session state each: leftovers from every visited model
    # would make each later form slower. Blank fields count too.
    at = open_model(app, I2V)
    left_behind = {form_builder.key(f.name) for f in form_builder.layout(I2V)} - {
        form_builder.key(f.name) for f in form_builder.layout("veo2")
    }
    assert left_behind and left_behind <= set(at.session_state)
    at.selectbox(key="gen_model").set_value("veo2")
    at = run(at)
    assert not left_behind & set(at.session_state)


# -- every model -------------------------------------------------------------------


@pytest.mark.parametrize("model_id", ALL_MODELS)
def test_every_models_form_renders(app, model_id):
    at = open_model(app, model_id)
    assert at.session_state["gen_model"] == model_id
    assert at.button(key="generate").label == "Generate"
    drawn = {
        w.key
        for w in [*at.text_area, *at.text_input, *at.selectbox, *at.segmented_control, *at.toggle, *at.slider, *at.number_input]
        if w.key
    }
    for field in form_builder.layout(model_id):
        if field.widget != "media":
            assert form_builder.key(field.name) in drawn, f"{model_id}: {field.name} has no widget"


def test_every_parameter_of_every_model_gets_a_widget_of_the_closed_set():
    kinds = set(get_args(form_builder.Widget))
    seen = {f.widget for model_id in ALL_MODELS for f in form_builder.layout(model_id)}
    assert seen <= kinds and {"segmented", "select", "slider", "integer_text", "textarea", "media"} <= seen
    for kind in kinds:  # every kind has a starting value: the match in default_value covers the set
        field = next((f for m in ALL_MODELS for f in form_builder.layout(m) if f.widget == kind), None)
        if field is not None:
            form_builder.default_value(field)


def test_every_enum_field_refuses_a_value_outside_it_beside_the_field(app, sim):
    """Every model, every enum field, through the link (the one way a person can type an outside value)."""
    checked = 0
    for model_id in ALL_MODELS:
        enums = [f for f in form_builder.layout(model_id) if f.param.enum is not None]
        if not enums:
            continue
        app.query_params.clear()
        app.query_params.update({"model": model_id, **{f.name: "not-an-option-42" for f in enums}})
        at = run(app)
        messages = [e.value.replace("\\", "") for e in at.error]
        for field in enums:
            assert any(m.startswith("From the link, ignored:") and field.param.label in m for m in messages), (model_id, field.name)
            assert at.session_state[form_builder.key(field.name)] != "not-an-option-42"
            checked += 1
    assert checked > 300 and sim.count("create") == 0


# -- submitting other models ---------------------------------------------------------


def test_an_http_link_is_refused_beside_the_field_and_nothing_is_sent(app, sim):
    at = open_model(app, I2V)
    at.text_input(key="gen_image_url").input("http://example.com/cat.png")
    at.text_area(key="gen_prompt").input(PROMPT)
    at.button(key="generate").click()
    at = run(at)
    assert "Use an https:// link" in errors_of(at)
    assert sim.count("create") == 0


def test_broken_json_is_refused_beside_the_field_and_nothing_is_sent(app, sim):
    model_id = next(m for m in ALL_MODELS if any(f.widget == "json" for f in form_builder.layout(m)))
    field = next(f for f in form_builder.layout(model_id) if f.widget == "json")
    body = minimal_body(
        catalog.get(model_id),
        image_url="https://example.com/a.png",
        video_url="https://example.com/a.mp4",
        audio_url="https://example.com/a.mp3",
    )
    app.query_params.update({"model": model_id})
    at = run(app)
    for name, value in body.items():
        if name != "model" and isinstance(value, str) and f"gen_{name}" in at.session_state:
            at.session_state[f"gen_{name}"] = value
    at.session_state[form_builder.key(field.name)] = '{"broken": '
    at = run(at)
    at.button(key="generate").click()
    at = run(at)
    assert f"{field.label} is not valid JSON" in errors_of(at)
    assert sim.count("create") == 0


def test_a_model_with_a_link_input_creates_on_its_endpoint_and_records_the_model(app, sim, data_dir):
    at = open_model(app, I2V)
    at.text_input(key="gen_image_url").input("https://example.com/cat.png")
    at.text_area(key="gen_prompt").input(PROMPT)
    at.button(key="generate").click()
    at = run(at)
    assert not at.error, errors_of(at)
    assert sim.count("create") == 1
    from videogen.store import Store

    (record,) = Store(data_dir).records()
    assert record.model == I2V and record.request["image_url"] == "https://example.com/cat.png"
    assert "Kling 1.6 Standard" in " ".join(m.value for m in at.markdown).replace("\\", "")  # escaped: literal text
    assert PROMPT in texts(at)


def test_rerun_of_an_upload_sends_the_same_bytes_and_records_the_reference(app, sim, data_dir):
    """The store holds `upload:<sha256>.png`; Re-run rebuilds the exact body, data URL included."""
    import io

    from PIL import Image

    from tests.helpers import TEST_KEY
    from videogen import media
    from videogen.api import Answer, Status
    from videogen.connection import account_of
    from videogen.store import Store

    picture = io.BytesIO()
    Image.new("RGB", (640, 360), (20, 120, 200)).save(picture, "PNG")
    upload = media.save_image(picture.getvalue(), catalog.get(I2V).param("image_url"), data_dir)
    past = {"model": I2V, "prompt": "Waves roll in", "image_url": upload.reference, "duration": 5}
    Store(data_dir).add(Answer("past:kling", Status.COMPLETED), request=past, server=sim.url, account=account_of(TEST_KEY))

    app.switch_page("pages/history.py")
    app.query_params["gen"] = "past:kling"
    at = run(app)
    next(b for b in at.button if b.label == "Re-run").click()
    at = run(at)
    assert at.session_state["gen_model"] == I2V
    assert at.text_area(key="gen_prompt").value == "Waves roll in"
    assert at.session_state["gen_image_url__ref"] == [upload.reference]
    at.switch_page("pages/generate.py")  # AppTest stays on the page the test last chose, whatever the app switched to
    at = run(at)
    at.button(key="generate").click()
    at = run(at)
    assert not at.error, errors_of(at)

    (job,) = sim.jobs.values()
    # The simulator keeps a received data URL as a file: those are the bytes that went over the wire.
    assert job.body["image_url"].startswith("data:image/png;base64,")
    assert Path(job.source["value"]).read_bytes() == picture.getvalue()
    newest = Store(data_dir).records()[0]
    assert newest.id == job.id and newest.request["image_url"] == upload.reference  # never base64 in the store


def test_history_has_a_model_column_and_filter_and_takes_other_models_shapes(app, data_dir):
    from tests.apptest import seed_history, table_view
    from videogen.api import Answer, Status
    from videogen.connection import account_of

    store = seed_history(data_dir)
    # Another model's body: a duration given as text, no aspect ratio, an image.
    other = {"model": I2V, "prompt": "Waves", "image_url": "https://example.com/a.png", "duration": "10"}
    store.add(Answer("e:kling", Status.COMPLETED), request=other, server="elsewhere", account=account_of("x"), created_at=2000)
    app.switch_page("pages/history.py")
    at = run(table_view(app))
    df = at.dataframe[0].value
    assert df.loc[df["id"] == "e:kling", "model"].item() == I2V
    assert df.loc[df["id"] == "e:kling", "duration"].item() == 10
    at.multiselect(key="hist_model").set_value([I2V])
    at = run(at)
    assert at.dataframe[0].value["id"].tolist() == ["e:kling"]
