"""The Cut page and Use a frame, through AppTest over real clips: a chain in order, a stitch recorded and shown,
a selection with no local copy refused by name, reorder and drop, a loop with its size, and a frame into a form."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from components import form_builder, frame_picker, session
from tests.apptest import run, table_view
from tests.clips import decode_all, make_clip
from videogen import catalog, lineage, media
from videogen.api import Answer, Status
from videogen.connection import account_of
from videogen.cuts import read_cut
from videogen.store import Store


@pytest.fixture
def shots(data_dir):
    """Two finished clips of 2 s, the second started from the first's last frame, plus one with no local copy."""
    store = Store(data_dir)
    for i, gen_id in enumerate(["one:veo2", "two:veo2", "gone:veo2"]):
        origin = lineage.frame_origin("one:veo2", frame=47, at_s=1.958, field="image_url", image_ref="upload:x.png") if i == 1 else None
        store.add(
            Answer(gen_id, Status.QUEUED),
            request={"model": "veo2", "prompt": f"shot {gen_id}", "seed": i, "aspect_ratio": "16:9"},
            server="elsewhere",
            account=account_of("x"),
            created_at=1000 + i,
            parent_id="one:veo2" if i == 1 else None,
            origin=origin,
        )
        store.apply(Answer(gen_id, Status.COMPLETED, video_url=f"https://cdn.example.com/{i}.mp4"), count_poll=False)
        if gen_id != "gone:veo2":
            store.set_video_path(gen_id, make_clip(store.videos_dir / f"{gen_id.split(':')[0]}.mp4", seconds=2))
    return store


def cut_page(app, **params):
    app.switch_page("pages/cut.py")
    for name, value in params.items():
        app.query_params[name] = value
    return run(app)


def shot_titles(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Shot ")]


def test_a_chain_opens_in_order_and_its_stitch_is_recorded_played_and_carries_its_recipe(app, shots):
    assert [r.id for r in lineage.chain(shots, "one:veo2")] == ["one:veo2", "two:veo2"]
    at = cut_page(app, chain="two:veo2")
    assert [t.split(" · ")[0] for t in shot_titles(at)] == ["**Shot 1**", "**Shot 2**"]
    assert [t.value for t in at.text[:2]] == ["shot one:veo2", "shot two:veo2"]
    assert any("starts from frame 48" in c.value for c in at.caption)
    assert any("stream copy" in c.value and "4.00 s" in c.value for c in at.caption), [c.value for c in at.caption]
    at.button(key="cut-stitch").click()
    at = run(at)
    (cut,) = shots.cuts()
    assert cut.method == "copy" and abs(cut.duration - 4.0) < 0.05
    assert [s["id"] for s in cut.recipe["shots"]] == ["one:veo2", "two:veo2"]
    assert read_cut(cut.video_file(shots.videos_dir)).shots[1].generation_id == "two:veo2"
    assert at.get("video"), "the cut plays on the page"
    assert any(b.label == "Download the cut" for b in at.get("download_button"))


def test_a_selection_with_a_video_that_has_no_local_copy_is_refused_naming_it(app, shots):
    at = cut_page(app, ids="one:veo2,gone:veo2")
    (error,) = [e.value for e in at.error]
    assert "`gone`" in error and "`one`" not in error
    assert not [b for b in at.button if b.key == "cut-stitch"]
    drop = next(b for b in at.button if b.key == "cut-drop-1")
    drop.click()
    at = run(at)
    assert not at.error and len(shot_titles(at)) == 1


def test_shots_move_and_a_trim_is_kept_to_the_frame(app, shots):
    at = cut_page(app, ids="one:veo2,two:veo2")
    next(b for b in at.button if b.key == "cut-down-0").click()
    at = run(at)
    assert "shot two:veo2" in at.text[0].value  # the second now plays first
    at.number_input(key="cut-out-0").set_value(1.0)
    at = run(at)
    assert any(c.value.startswith("Frames 1–24 of 48") for c in at.caption)
    at.button(key="cut-stitch").click()
    at = run(at)
    (cut,) = shots.cuts()
    assert [s["id"] for s in cut.recipe["shots"]] == ["one:veo2", "two:veo2"][::-1]
    assert abs(cut.duration - 3.0) < 0.05  # 1 s of the first shot, then 2 s


def test_one_video_becomes_a_loop_with_its_size_shown_before_the_download(app, shots):
    at = cut_page(app, ids="one:veo2")
    at.number_input(key="cut-out-0").set_value(1.0)  # the trim is the loop's stretch
    at = run(at)
    make = next(b for b in at.button if b.label == "Make the loop")
    make.click()
    at = run(at)
    (download,) = [b for b in at.get("download_button") if b.label.startswith("Download (")]
    assert download.label.endswith(" MB)")
    (gif,) = (shots.data_dir / "loops").glob("*.gif")
    assert Image.open(gif).n_frames == 12  # 1 s at the default 12 fps


def test_use_a_frame_puts_the_last_frame_in_an_image_to_video_form_and_the_shot_records_its_origin(app, sim, shots):
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "one:veo2"
    at = run(table_view(app))
    next(b for b in at.button if b.label == "Use a frame").click()
    at = run(at)
    assert any("Frame 48 of 48" in img.caption for i in at.get("image") for img in i.proto.imgs), "the last frame by default"
    target = at.selectbox(key="frame_pick_model").value
    assert catalog.get(target).kind == "image-to-video"
    # Models that fetch their image only from a public link are named, and not offered.
    link_only = [m for m in catalog.models().values() if m.kind == "image-to-video" and frame_picker.takes_frames(m)]
    link_only = [m for m in link_only if not any(p.accepts_base64 for p in frame_picker.takes_frames(m))]
    assert "google/veo-3.1-i2v" in {m.id for m in link_only}
    (named,) = [e for e in at.expander if e.label.endswith("models cannot take a local frame")]
    assert named.label.startswith(f"{len(link_only)} ")
    offered = [m.id for m in frame_picker.targets()[0]]
    assert len(at.selectbox(key="frame_pick_model").options) == len(offered)
    assert not {m.id for m in link_only} & set(offered)
    at.button(key="frame-use").click()
    at = run(at)
    at.switch_page("pages/generate.py")
    at = run(at)
    assert at.session_state[session.MODEL] == target
    field = next(p for p in catalog.get(target).params if p.media == "image" and p.accepts_base64)
    (ref,) = at.session_state[form_builder.key(field.name) + session.UPLOAD_REFS_SUFFIX]
    kept = Image.open(media.reference_path(ref, shots.data_dir)).convert("RGB")
    assert ImageChops.difference(kept, decode_all(shots.get("one:veo2").video_file(shots.videos_dir))[-1]).getbbox() is None

    at.button(key="generate").click()
    at = run(at)
    assert not at.error, [e.value for e in at.error]
    (made,) = [r for r in shots.records() if r.model == target]
    assert made.parent_id == "one:veo2" and made.request[field.name] == ref
    assert made.origin["kind"] == "frame" and made.origin["frame"] == 47 and made.origin["from_id"] == "one:veo2"
    assert lineage.version_changes(made, shots.get("one:veo2")) == ("next shot from its frame 48 (1.96 s)",)
    assert [r.id for r in lineage.chain(shots, made.id)] == ["one:veo2", made.id]
    assert [r.id for r in lineage.chain(shots, "one:veo2")] == ["one:veo2", made.id]  # from a clip on: its newest next shot
    assert [r.id for r in lineage.chain(shots, "two:veo2")] == ["one:veo2", "two:veo2"]  # an earlier take keeps its own chain


def test_a_cut_goes_into_a_demo_reel_first_with_its_shots_after(app, shots):
    import io
    import zipfile

    from videogen import reel

    at = cut_page(app, ids="one:veo2,two:veo2")
    at.button(key="cut-stitch").click()
    at = run(at)
    (cut,) = shots.cuts()
    assert any(b.label == "Demo reel with its shots" for b in at.get("download_button"))
    data = reel.build([shots.get("one:veo2"), shots.get("two:veo2")], shots.data_dir, cuts=[cut])
    names = sorted(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(".mp4"))
    assert [n.split("/")[-1].split("-")[0:2] for n in names][0] == ["01", "cut"] and len(names) == 3
    page = next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith("index.html"))
    html = zipfile.ZipFile(io.BytesIO(data)).read(page).decode()
    assert "Stitched cut" in html and "1. one:veo2 · 2. two:veo2" in html


def test_the_picker_offers_the_model_last_used_to_animate_a_picture_first(app, shots):
    from videogen.api import Answer as A

    shots.add(A("i2v:kling", Status.QUEUED), request={"model": "kling-video/v1.6/standard/image-to-video", "prompt": "p"}, server="x")
    app.switch_page("pages/history.py")
    app.query_params["gen"] = "one:veo2"
    at = run(table_view(app))
    next(b for b in at.button if b.label == "Use a frame").click()
    at = run(at)
    assert at.selectbox(key="frame_pick_model").value == "kling-video/v1.6/standard/image-to-video"


def test_a_loop_over_the_size_limit_says_so_and_makes_it_at_the_width_that_fits(app, shots, monkeypatch):
    from videogen import loops

    monkeypatch.setattr(loops, "LOOP_MAX_BYTES", 40 * 1024)  # a 2 s loop at 160 px is about 120 KB
    at = cut_page(app, ids="one:veo2")
    next(b for b in at.button if b.label == "Make the loop").click()
    at = run(at)
    (warning,) = [w.value for w in at.warning]
    assert "over the 40 KB limit" in warning.replace("\\", "")
    smaller = next(b for b in at.button if b.label.startswith("Make it "))
    width = int(smaller.label.split()[2])
    assert width < 160
    smaller.click()
    at = run(at)
    made = [b for b in at.get("download_button") if b.label.startswith("Download (")]
    assert made and not at.warning and at.slider(key="video-one:veo2-loop-width").value == width  # made at once, at that width
