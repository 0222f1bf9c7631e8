"""The demo reel's zip and page: what goes in, what is named as missing, and that every text stays text."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from html.parser import HTMLParser

from videogen import media, reel
from videogen.api import Answer, Status
from videogen.store import Store

MADE_AT = datetime(2026, 11, 30, 14, 5)
HOSTILE = '<script>alert("x")</script> **bold** _it_ [link](https://example.com) & "quotes"\nsecond line'
MP4_HEAD = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200
WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


def finished(store: Store, gen_id: str, request: dict, video: bytes | None, *, credits: float = 60.0):
    store.add(Answer(gen_id, Status.QUEUED, "queued"), request=request, server="sim")
    store.apply(Answer(gen_id, Status.COMPLETED, "completed", video_url="http://127.0.0.1/x.mp4", credits_used=credits))
    if video is not None:
        path = store.data_dir / "videos" / f"{gen_id.replace(':', '_')}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(video)
        store.set_video_path(gen_id, path)
    return store.get(gen_id)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_the_zip_holds_one_folder_with_the_page_and_each_video_stored_as_is(store):
    one = finished(store, "gen:a", {"model": "veo2", "prompt": "a fox", "aspect_ratio": "16:9", "duration": 5}, MP4_HEAD)
    two = finished(store, "gen:b", {"model": "veo2", "prompt": "a hen", "aspect_ratio": "9:16", "duration": 8}, WEBM_HEAD)
    data = reel.build([one, two], store.data_dir, made_at=MADE_AT)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        folder = "demo-reel-20261130-1405"
        assert set(infos) == {f"{folder}/index.html", f"{folder}/videos/01-gen-a.mp4", f"{folder}/videos/02-gen-b.mp4"}
        assert archive.read(f"{folder}/videos/01-gen-a.mp4") == MP4_HEAD
        assert infos[f"{folder}/videos/01-gen-a.mp4"].compress_type == zipfile.ZIP_STORED
        page = archive.read(f"{folder}/index.html").decode()
    sources = [attrs for tag, attrs in parse(page).tags if tag == "source"]
    assert [(s["src"], s["type"]) for s in sources] == [("videos/01-gen-a.mp4", "video/mp4"), ("videos/02-gen-b.mp4", "video/webm")]
    assert reel.file_name(MADE_AT) == "demo-reel-20261130-1405.zip"


def test_a_prompt_with_markup_and_markdown_is_shown_as_written(store):
    record = finished(store, "gen:x", {"model": "veo2", "prompt": HOSTILE, "aspect_ratio": "16:9", "duration": 5}, MP4_HEAD)
    store.set_note("gen:x", "<b>keep</b> this")
    page = reel.index_html(reel.contents([store.get("gen:x")], store.data_dir), made_at=MADE_AT)
    parsed = parse(page)
    assert "script" not in {tag for tag, _ in parsed.tags}
    assert "b" not in {tag for tag, _ in parsed.tags}
    text = "".join(parsed.text)
    assert HOSTILE in text  # the exact prompt, newline included, as text
    assert "<b>keep</b> this" in text
    assert record.id in text


def test_the_page_names_every_field_and_refers_to_nothing_outside_the_folder(store):
    request = {
        "model": "veo2",
        "prompt": "p",
        "aspect_ratio": "16:9",
        "duration": 6,
        "seed": 42,
        "enhance_prompt": False,
        "negative_prompt": "blur",
        "image_url": "https://cdn.example.com/cat.png",
    }
    finished(store, "gen:p", request, MP4_HEAD, credits=125)
    page = reel.index_html(reel.contents(store.records(), store.data_dir), made_at=MADE_AT)
    text = " ".join(parse(page).text)
    for shown in ("aspect ratio", "16:9", "seed", "42", "enhance prompt", "off", "negative prompt", "blur", "125 credits"):
        assert shown in text
    # A link in the body is shown, never loaded; every src in the page is inside the folder.
    sources = [attrs.get("src") for _, attrs in parse(page).tags if attrs.get("src")]
    assert sources and all(not re.match(r"^[a-z]+:|^/|\.\.", s) for s in sources)
    assert "https://cdn.example.com/cat.png" in text
    assert not [tag for tag, attrs in parse(page).tags if tag in ("script", "link", "iframe", "object")]


def test_an_uploaded_image_travels_in_the_zip_and_shows_as_a_picture(store, tmp_path):
    from PIL import Image

    from videogen import catalog

    model = next(m for m in catalog.models().values() if any(p.name == "image_url" for p in m.params))
    param = model.param("image_url")
    png = io.BytesIO()
    Image.new("RGB", (640, 360), "orange").save(png, "PNG")
    upload = media.save_image(png.getvalue(), param, store.data_dir)
    a = finished(store, "gen:i1", {"model": model.id, "prompt": "p", "image_url": upload.reference}, MP4_HEAD)
    b = finished(store, "gen:i2", {"model": model.id, "prompt": "q", "image_url": upload.reference}, MP4_HEAD)
    with zipfile.ZipFile(io.BytesIO(reel.build([a, b], store.data_dir, made_at=MADE_AT))) as archive:
        names = archive.namelist()
        inputs = [n for n in names if "/inputs/" in n]
        assert len(inputs) == 1  # one upload feeding two generations goes in once
        assert archive.read(inputs[0]) == png.getvalue()
        page = archive.read(next(n for n in names if n.endswith("index.html"))).decode()
    images = [attrs["src"] for tag, attrs in parse(page).tags if tag == "img"]
    assert images == [inputs[0].split("/", 1)[1]] * 2
    assert upload.reference not in page  # the store's internal reference is not what a viewer needs


def test_generations_without_a_local_video_are_named_not_dropped_silently(store):
    ready = finished(store, "gen:ok", {"model": "veo2", "prompt": "here"}, MP4_HEAD)
    no_copy = finished(store, "gen:nocopy", {"model": "veo2", "prompt": "copy failed"}, None)
    store.add(Answer("gen:run", Status.GENERATING, "generating"), request={"model": "veo2", "prompt": "still going"}, server="sim")
    running = store.get("gen:run")
    contents = reel.contents([ready, no_copy, running], store.data_dir)
    assert [i.record.id for i in contents.items] == ["gen:ok"]
    assert [r.id for r in contents.missing] == ["gen:nocopy", "gen:run"]
    text = " ".join(parse(reel.index_html(contents, made_at=MADE_AT)).text)
    assert "Not included" in text and "gen:nocopy" in text and "still going" in text
    assert "1 video ·" in text


def test_a_video_deleted_from_disk_after_the_choice_is_reported_missing(store):
    record = finished(store, "gen:gone", {"model": "veo2", "prompt": "p"}, MP4_HEAD)
    (store.data_dir / "videos" / "gen_gone.mp4").unlink()
    contents = reel.contents([record], store.data_dir)
    assert not contents.items and [r.id for r in contents.missing] == ["gen:gone"]


def test_a_reel_holds_what_its_limit_allows_and_names_the_rest(store):
    records = [finished(store, f"gen:{n}", {"model": "veo2", "prompt": f"clip {n}"}, MP4_HEAD + bytes([n]) * 100) for n in range(5)]
    by_count = reel.contents(records, store.data_dir, limits=reel.Limits(videos=3))
    assert [i.record.id for i in by_count.items] == ["gen:0", "gen:1", "gen:2"]
    assert [r.id for r in by_count.left_out] == ["gen:3", "gen:4"] and not by_count.missing
    size = len(MP4_HEAD) + 100
    by_bytes = reel.contents(records, store.data_dir, limits=reel.Limits(bytes=2 * size + size // 2))
    assert len(by_bytes.items) == 2 and len(by_bytes.left_out) == 3

    data = reel.build(records, store.data_dir, made_at=MADE_AT, limits=reel.Limits(videos=3))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len([n for n in archive.namelist() if "/videos/" in n]) == 3
        page = archive.read(next(n for n in archive.namelist() if n.endswith("index.html"))).decode()
    text = " ".join(parse(page).text)
    assert "Left out: the reel is full" in text and "at most 3 videos" in text
    assert "gen:3" in text and "clip 4" in text
    assert "3 videos ·" in text


def test_a_reel_is_written_to_a_file_and_its_temporary_file_leaves_nothing_behind(store, tmp_path):
    assert reel.MAX_VIDEOS == reel.Limits().videos and reel.MAX_BYTES == reel.Limits().bytes
    record = finished(store, "gen:f", {"model": "veo2", "prompt": "p"}, MP4_HEAD)
    before = set(store.data_dir.rglob("*"))
    with (tmp_path / "reel.zip").open("wb") as target:
        written = reel.write([record], store.data_dir, target, made_at=MADE_AT)
    assert [i.record.id for i in written.items] == ["gen:f"]
    assert zipfile.ZipFile(tmp_path / "reel.zip").read("demo-reel-20261130-1405/videos/01-gen-f.mp4") == MP4_HEAD
    assert zipfile.is_zipfile(io.BytesIO(reel.build([record], store.data_dir, made_at=MADE_AT)))
    assert set(store.data_dir.rglob("*")) == before  # its temporary file is gone, and was never among the videos


def test_a_row_naming_a_file_outside_the_data_folder_puts_nothing_of_it_in_the_reel(store, tmp_path):
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(MP4_HEAD + b"not yours")
    record = finished(store, "gen:s", {"model": "veo2", "prompt": "p"}, None)
    store.set_video_path("gen:s", secret)
    contents = reel.contents([store.get("gen:s")], store.data_dir)
    assert not contents.items and [r.id for r in contents.missing] == [record.id]
    assert b"not yours" not in reel.build([store.get("gen:s")], store.data_dir, made_at=MADE_AT)


def test_each_entry_shows_its_rating_as_stars_and_rejected_when_so(store):
    from videogen.store import Rating

    rated = finished(store, "gen:r", {"model": "veo2", "prompt": "a heron"}, MP4_HEAD)
    rejected = finished(store, "gen:j", {"model": "veo2", "prompt": "a crane"}, MP4_HEAD)
    plain = finished(store, "gen:n", {"model": "veo2", "prompt": "a swan"}, MP4_HEAD)
    store.set_rating(rated.id, 4)
    store.set_rejected(rejected.id, True)
    ratings = store.ratings([rated.id, rejected.id, plain.id])
    with zipfile.ZipFile(io.BytesIO(reel.build([rated, rejected, plain], store.data_dir, made_at=MADE_AT, ratings=ratings))) as archive:
        page = archive.read(next(n for n in archive.namelist() if n.endswith("index.html"))).decode()
    cards = [parse(c) for c in page.split("<article")[1:]]
    stars = [[a for t, a in c.tags if t == "span" and a.get("class") == "stars"] for c in cards]
    assert [[s["aria-label"] for s in found] for found in stars] == [["rated 4 of 5"], [], []]
    marked = [[" ".join(c.text).count("rejected"), len([t for t, a in c.tags if a.get("class") == "rejected"])] for c in cards]
    assert marked == [[0, 0], [1, 1], [0, 0]]
    texts = [" ".join(c.text) for c in cards]
    assert "★★★★☆" in texts[0] and "★" not in texts[1] + texts[2]
    assert "team" not in " ".join(texts)  # one person, sign-in off: the team's figure would only repeat the rating
    # Someone else's rating beside this person's: the team's average and how many it is of.
    others = {rated.id: Rating(rated.id, rating=4, team_average=3.5, team_count=2)}
    text = " ".join(parse(reel.index_html(reel.contents([rated], store.data_dir), made_at=MADE_AT, ratings=others)).text)
    assert "★★★★☆" in text and "team 3.5 from 2" in text
    # Without ratings handed in, no entry claims one.
    assert "★" not in reel.index_html(reel.contents([rated], store.data_dir), made_at=MADE_AT)


def test_a_video_in_the_reel_keeps_its_recipe(store, rendered_videos):
    from videogen.recipe import Recipe, read_recipe, write_recipe
    from videogen.simulator.render import render_clip

    clip = rendered_videos / "reel-recipe-240p-1s.mp4"
    if not clip.exists():
        render_clip(clip, prompt="A kite over the dunes", aspect_ratio="16:9", duration=1, seed=4, resolution="240p")
    record = finished(store, "gen:r", {"model": "veo2", "prompt": "A kite over the dunes"}, clip.read_bytes())
    write_recipe(record.video_path, Recipe.of(record))
    with zipfile.ZipFile(io.BytesIO(reel.build([record], store.data_dir, made_at=MADE_AT))) as archive:
        carried = archive.read("demo-reel-20261130-1405/videos/01-gen-r.mp4")
    assert read_recipe(carried) == Recipe.of(record)  # the file goes in byte for byte, its recipe with it
