"""Make a start frame on the Generate page, through AppTest against the simulator: the image model's form from
the same builder, the picture into the video form's image field, recorded with its cost; a refusal said beside it."""

from __future__ import annotations

from PIL import Image

from components import form_builder, session
from tests.apptest import run
from videogen import catalog, media
from videogen.simulator import Fault

I2V = "alibaba/wan-2-6-i2v"


def on_image_to_video(app):
    app.query_params["model"] = I2V
    at = run(app)
    assert at.session_state[session.MODEL] == I2V
    return at


def test_a_drawn_start_frame_lands_in_the_image_field_is_recorded_and_animates(app, sim, data_dir):
    at = on_image_to_video(app)
    assert at.selectbox(key="img__model").value == "flux/schnell"
    assert at.text_area(key="img_prompt").value == ""  # the image model's own prompt, apart from the video's
    at.text_area(key="img_prompt").input("A lighthouse on a cliff at dusk, wide shot")
    at.text_input(key="img_seed").input("42")
    at.button(key="img-draw").click()
    at = run(at)
    assert sim.count("image") == 1
    (ref,) = at.session_state[form_builder.key("image_url") + session.UPLOAD_REFS_SUFFIX]
    assert media.is_reference(ref) and Image.open(media.reference_path(ref, data_dir)).size[0] > 0
    assert any("FLUX Schnell drew the start frame" in i.value and "seed 42" in i.value for i in at.info), [i.value for i in at.info]

    from videogen.store import Store

    store = Store(data_dir)
    (image,) = store.images()
    assert (image.model, image.prompt, image.seed, image.upload_ref) == (
        "flux/schnell",
        "A lighthouse on a cliff at dusk, wide shot",
        42,
        ref,
    )
    assert image.credits_used is not None and store.spending(image.server, image.account).images == image.credits_used

    assert any("went to start frames drawn by image models" in c.value for c in at.sidebar.caption)

    at.text_area(key="gen_prompt").input("The camera pulls back as the light turns")
    at.button(key="generate").click()
    at = run(at)
    (made,) = store.records()
    assert made.model == I2V and made.request["image_url"] == ref


def test_a_refused_prompt_is_said_beside_the_form_and_nothing_changes(app, sim):
    at = on_image_to_video(app)
    sim.faults.inject("image", Fault.moderated("Your prompt was flagged: violence."))
    at.text_area(key="img_prompt").input("Something the model refuses")
    at.button(key="img-draw").click()
    at = run(at)
    assert any("would not draw it" in e.value and "flagged" in e.value for e in at.error), [e.value for e in at.error]
    refs = form_builder.key("image_url") + session.UPLOAD_REFS_SUFFIX
    assert refs not in at.session_state or not at.session_state[refs]


def test_every_image_model_gets_its_form_from_the_builder_under_its_own_keys():
    for model_id in catalog.image_models():
        fields = form_builder.layout(model_id)
        assert fields and all(f.key.startswith("img_") for f in fields), model_id
    assert all(f.key.startswith("gen_") for f in form_builder.layout("veo2"))
