"""History's Gallery at page level (AppTest): the View choice, pages of tiles, what the tiles carry, the filters,
and the keys and clicks the gallery sends (as the browser's component would), forged ones included."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.apptest import component_data, run, seed_history, send_trigger
from videogen import tiles
from videogen.api import Answer, Status
from videogen.connection import account_of
from videogen.posters import STRIP_FRAMES, poster_files
from videogen.store import Store

GALLERY = "hist_gallery"


def history(app, query: dict | None = None):
    app.switch_page("pages/history.py")
    app.query_params.update(query or {})
    return run(app)


def shown_tiles(at) -> list[dict]:
    """The tiles as drawn, each with its filmstrip, which comes in an element of its own after them."""
    strips = component_data(at, f"{GALLERY}-strips")["strips"]
    return [{**t, "strip": strips.get(t["id"])} for t in component_data(at, GALLERY)["tiles"]]


def tile_ids(at) -> list[str]:
    return [t["id"] for t in shown_tiles(at)]


def act(at, key: str, gen_id: str, value=None):
    return send_trigger(at, GALLERY, "action", {"key": key, "id": gen_id, "value": value})


def jpeg(size: tuple[int, int], color=(200, 90, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def with_video(store: Store, gen_id: str, *, posters: bool = True, reason: str | None = None) -> None:
    """A saved video for `gen_id` in the store's videos folder, with its poster and strip (or the reason there are none)."""
    video = store.videos_dir / f"{gen_id.replace(':', '_')}.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    files = poster_files(video)
    if posters:
        files.strip.write_bytes(jpeg((284 * STRIP_FRAMES, 160)))
        files.poster.write_bytes(jpeg((480, 270)))
    if reason:
        files.reason_file.write_text(reason + "\n")
    store.set_video_path(gen_id, video)


def many(data_dir, count: int) -> Store:
    store = Store(data_dir)
    for i in range(count):
        gen_id = f"g{i:03d}:veo2"
        store.add(
            Answer(gen_id, Status.QUEUED),
            request={"model": "veo2", "prompt": f"Clip number {i}", "aspect_ratio": "16:9"},
            server="elsewhere",
            account=account_of("x"),
            created_at=1000 + i,
        )
        store.apply(Answer(gen_id, Status.COMPLETED, video_url=f"https://cdn.example.com/{i}.mp4"), count_poll=False)
    return store


# -- the View choice ---------------------------------------------------------------------------------


def test_history_opens_as_a_gallery_newest_first_and_table_shows_the_dataframe(app, data_dir):
    seed_history(data_dir)
    at = history(run(app))
    assert at.segmented_control(key="view").value == "Gallery"
    assert not at.dataframe
    assert tile_ids(at) == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]
    at.segmented_control(key="view").set_value("Table")
    at = run(at)
    assert at.dataframe[0].value["id"].tolist() == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]
    assert not at.get("bidi_component")


def test_the_view_chosen_is_kept_through_a_visit_to_generate(app, data_dir):
    seed_history(data_dir)
    at = history(run(app))
    at.segmented_control(key="view").set_value("Table")
    at = run(at)
    at.switch_page("pages/generate.py")
    at = run(at)
    at = history(at)
    assert at.dataframe


# -- pages ---------------------------------------------------------------------------------------------


def test_a_hundred_rows_are_three_pages_of_48_and_the_last_of_4(app, data_dir):
    many(data_dir, 100)
    at = history(run(app))
    first = tile_ids(at)
    assert len(first) == 48 and first[0] == "g099:veo2"
    assert "Page 1 of 3" in " ".join(c.value for c in at.caption)
    at.button(key="gallery-next").click()
    at = run(at)
    assert tile_ids(at)[0] == "g051:veo2" and len(tile_ids(at)) == 48
    at.button(key="gallery-next").click()
    at = run(at)
    assert tile_ids(at) == [f"g{i:03d}:veo2" for i in range(3, -1, -1)]
    assert at.button(key="gallery-next").disabled
    at.button(key="gallery-previous").click()
    assert tile_ids(run(at))[0] == "g051:veo2"


def test_a_link_to_an_older_generation_turns_to_its_page_and_opens_it(app, data_dir):
    many(data_dir, 100)
    at = history(run(app), {"gen": "g010:veo2"})
    assert "g010:veo2" in tile_ids(at)
    assert component_data(at, GALLERY)["open"] == "g010:veo2"
    assert at.get("code")[0].value == "g010:veo2"  # its detail, as the table's selection shows it


# -- what a tile carries -------------------------------------------------------------------------------


def test_tiles_carry_the_poster_or_a_placeholder_and_the_reason(app, data_dir):
    store = seed_history(data_dir)  # a and b finished, c failed, d still generating
    with_video(store, "a:veo2")
    with_video(store, "b:veo2", posters=False, reason="The file holds no video stream.")
    at = history(run(app))
    by_id = {t["id"]: t for t in shown_tiles(at)}
    a, b, c, d = (by_id[f"{x}:veo2"] for x in "abcd")
    assert a["poster"].startswith("data:image/jpeg;base64,") and a["strip"].startswith("data:image/jpeg;base64,")
    assert a["note"] is None and a["status"] == "Ready" and a["ratio"] == "16 / 9" and a["duration"] == "5 s"
    assert b["poster"] == tiles.placeholder("", portrait=True).poster and b["strip"] is None
    assert b["note"] == "The file holds no video stream." and b["portrait"] and b["ratio"] == "9 / 16"
    assert (c["status"], c["note"]) == ("Failed", "nope")
    assert d["status"] == "Generating" and "elapsed" in d["note"]
    assert a["model"] == "Veo 2" and a["prompt"] == "A fox in snow"


def test_a_poster_that_cannot_be_read_is_a_placeholder_with_a_reason(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not a video")
    files = poster_files(video)
    files.poster.write_bytes(b"not a jpeg at all")
    files.strip.write_bytes(b"\xff\xd8 nor this")
    images = tiles.tile_images(video)
    assert images.reason == tiles.UNREADABLE and images.strip is None and images.poster.startswith("data:image/jpeg")
    files.poster.unlink()
    assert tiles.tile_images(video).reason == tiles.NOT_MADE


def test_a_tiles_images_stay_small(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"video")
    files = poster_files(video)
    noise = Image.effect_noise((480, 270), 90).convert("RGB")  # noise: the worst case for JPEG
    noise.save(files.poster, "JPEG", quality=95)
    Image.effect_noise((284 * STRIP_FRAMES, 160), 90).convert("RGB").save(files.strip, "JPEG", quality=95)
    images = tiles.tile_images(video)
    assert images.reason is None and images.size * 48 <= 2_000_000  # the bench measures it on real posters


# -- the filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("search", ["fox", "city"])
def test_the_filters_show_the_same_rows_in_both_views(app, data_dir, search):
    seed_history(data_dir)
    at = history(run(app))
    at.text_input(key="hist_search").input(search)
    at = run(at)
    in_gallery = tile_ids(at)
    at.segmented_control(key="view").set_value("Table")
    at = run(at)
    assert at.dataframe[0].value["id"].tolist() == in_gallery and in_gallery


def test_rejected_tiles_are_hidden_until_hide_rejected_is_off_and_the_least_rating_applies(app, data_dir):
    store = seed_history(data_dir)
    store.set_rejected("a:veo2", True)
    store.set_rating("b:veo2", 4)
    at = history(run(app))
    assert "a:veo2" not in tile_ids(at)
    at.toggle(key="hist_hide_rejected").set_value(False)
    at = run(at)
    assert {t["id"]: t["rejected"] for t in shown_tiles(at)}["a:veo2"] is True
    at.segmented_control(key="hist_min_rating").set_value(3)
    at = run(at)
    assert [(t["id"], t["rating"]) for t in shown_tiles(at)] == [("b:veo2", 4)]


# -- keys and clicks -----------------------------------------------------------------------------------


def test_keys_rate_reject_and_star_through_the_store(app, data_dir):
    store = seed_history(data_dir)
    at = history(run(app))
    at = act(at, "rate", "b:veo2", 4)
    assert store.ratings(["b:veo2"])["b:veo2"].rating == 4
    assert {t["id"]: t["rating"] for t in shown_tiles(at)}["b:veo2"] == 4
    at = act(at, "star", "b:veo2", True)
    assert store.get("b:veo2").starred and {t["id"]: t["starred"] for t in shown_tiles(at)}["b:veo2"]
    at = act(at, "reject", "b:veo2", True)
    assert store.ratings(["b:veo2"])["b:veo2"].rejected
    assert "b:veo2" not in tile_ids(at)  # Hide rejected is on


def test_a_running_generation_is_not_rated(app, data_dir):
    store = seed_history(data_dir)
    at = act(history(run(app)), "rate", "d:veo2", 5)
    assert store.ratings(["d:veo2"])["d:veo2"].rating is None
    assert any("finished" in t.proto.body for t in at.toast)


def test_open_shows_the_detail_and_close_hides_it(app, data_dir):
    seed_history(data_dir)
    at = act(history(run(app)), "open", "b:veo2")
    assert component_data(at, GALLERY)["open"] == "b:veo2" and at.query_params.get("gen") == "b:veo2"
    assert at.get("code")[0].value == "b:veo2" and "A city at night" in [t.value for t in at.text]
    at = act(at, "close", "b:veo2")
    assert component_data(at, GALLERY)["open"] is None and "gen" not in at.query_params


def test_ticks_and_c_select_several_for_compare_and_the_table_keeps_them(app, data_dir):
    seed_history(data_dir)
    at = act(history(run(app)), "select", "a:veo2", True)
    at = act(at, "select", "b:veo2", True)
    assert {t["id"] for t in shown_tiles(at) if t["selected"]} == {"a:veo2", "b:veo2"}
    assert "2 selected" in " ".join(c.value for c in at.caption)  # Compare and the demo reel's row
    at.segmented_control(key="view").set_value("Table")
    at = run(at)
    assert "2 selected" in " ".join(c.value for c in at.caption)
    at.segmented_control(key="view").set_value("Gallery")
    at = act(run(at), "select", "a:veo2", False)
    assert [t["id"] for t in shown_tiles(at) if t["selected"]] == ["b:veo2"]


def test_r_loads_the_request_into_the_form_on_generate(app, data_dir):
    seed_history(data_dir)
    at = act(history(run(app)), "rerun", "b:veo2")
    assert at.text_area(key="gen_prompt").value == "A city at night"


@pytest.mark.parametrize(
    "forged",
    [
        {"key": "rate", "id": "b:veo2", "value": 9},
        {"key": "rate", "id": "b:veo2", "value": "4"},
        {"key": "rate", "id": "b:veo2", "value": True},
        {"key": "rate", "id": "not-on-this-page", "value": 4},
        {"key": "reject", "id": "b:veo2", "value": "yes"},
        {"key": "delete", "id": "b:veo2"},
        {"key": "rate", "id": ["b:veo2"], "value": 4},
        "rate b:veo2 4",
    ],
)
def test_a_forged_trigger_is_ignored(app, data_dir, forged):
    store = seed_history(data_dir)
    at = send_trigger(history(run(app)), GALLERY, "action", forged)
    assert store.ratings(["b:veo2"])["b:veo2"].rating is None and not store.ratings(["b:veo2"])["b:veo2"].rejected
    assert store.get("b:veo2") is not None and tile_ids(at) == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]


def test_an_id_from_another_page_is_ignored(app, data_dir):
    store = many(data_dir, 60)
    at = history(run(app))
    assert "g000:veo2" not in tile_ids(at)  # on the second page
    act(at, "rate", "g000:veo2", 5)
    assert store.ratings(["g000:veo2"])["g000:veo2"].rating is None
