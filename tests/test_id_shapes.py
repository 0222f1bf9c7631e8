"""Every id shape the real API has handed out, end to end: query strings, file names, widget keys, links, reel, exports.

Shapes seen (api-contract, "As the API answers in practice"): `uuid:model` where the model part has
slashes, 21-character ids that start with "-", digits only, `cgt-<date>-<code>`, and bare UUIDs.
"""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from streamlit.runtime.state.query_params import process_query_params

from tests.apptest import run
from tests.helpers import fast_schedule, wait_until
from videogen import catalog, history, reel
from videogen.api import Answer, Status
from videogen.polling import Poller, video_filename
from videogen.simulator import JobScript
from videogen.store import Store

IDS = [
    "50f3e8ae-1c2d-4e5f-8a9b-0c1d2e3f4a5b:kling-video/v1.6/pro/effects",
    "-G3b3vVKdoC42fMNeK1T5",
    "234954179076239",
    "cgt-20250704191750-n4qjp",
    "e4d3af90-f643-44d0-9dcc-95c5b07f4bbf",
]
# Two ids that differ only where a key's readable part cannot: they must still get two cards.
ALIKE = ["x1:kling/a", "x1/kling:a"]
BODY = {"model": "veo2", "prompt": "an id of every shape", "duration": 5, "aspect_ratio": "16:9"}


@pytest.fixture
def made(sim, client, store):
    """A generation of each shape, created, polled, finished and saved through the simulator."""
    for gen_id in IDS:
        sim.faults.script(JobScript(id=gen_id))
        generation = client.create(BODY)
        assert generation.id == gen_id
        store.add(generation, request=BODY, server="sim")
    poller = Poller(store, client, server="sim", schedule_for=fast_schedule, backoff_base=0.1, backoff_cap=0.5, idle_interval=0.1).start()
    try:
        assert wait_until(lambda: all(r.video_path for r in store.find(IDS)), timeout=60)
    finally:
        poller.stop()
    return store.find(IDS)


def test_each_shape_is_fetched_saved_and_kept_apart(sim, store, made):
    assert {r.id for r in made} == set(IDS) and all(r.status is Status.COMPLETED for r in made)
    for gen_id in IDS:  # the server read back exactly the id from the query string
        assert sim.count("fetch", generation_id=gen_id) >= 1
    assert {r.generation_id for r in sim.requests if r.endpoint == "fetch"} == set(IDS)
    files = [r.video_file(store.videos_dir) for r in made]
    assert all(f is not None and f.parent == store.videos_dir.resolve() for f in files)
    assert len({f.name for f in files}) == len(IDS)
    assert [r.id for r in store.find(IDS)] and all(store.get(i).id == i for i in IDS)


def test_each_shape_goes_in_the_reel_and_both_exports_exactly(store, made):
    archive = zipfile.ZipFile(io.BytesIO(reel.build(made, store.data_dir)))
    videos = [n for n in archive.namelist() if "/videos/" in n]
    assert len(set(videos)) == len(IDS)
    page = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("index.html"))
    assert all(gen_id in page for gen_id in IDS)

    assert [row["id"] for row in json.loads(history.to_json(made))] == [r.id for r in made]
    cells = pd.read_csv(io.BytesIO(history.to_csv(made)), dtype=str)["id"].tolist()
    # An id that starts with "-" gets the spreadsheet mark (README, History); every other id stands as it is.
    assert cells == [("'" + r.id) if r.id.startswith("-") else r.id for r in made]


def test_each_shape_gets_a_history_link_that_reads_back_as_the_id(store, made):
    frame = history.frame(store.table_rows(), link_prefix="history?gen=")
    links = dict(zip(frame["id"], frame["video"]))
    for gen_id in IDS:
        assert parse_qs(urlsplit(links[gen_id]).query)["gen"] == [gen_id]


def test_keys_and_download_names_are_unique_and_safe():
    from components.generation_card import download_name
    from videogen.ids import unique_name  # the cards' and batches' widget keys

    keys = {unique_name(i) for i in IDS + ALIKE}
    assert len(keys) == len(IDS) + len(ALIKE)
    assert all(k.replace("-", "").replace("_", "").isalnum() for k in keys)
    names = [download_name(i) for i in IDS]
    assert all(n.endswith(".mp4") and not n.startswith("-") and "/" not in n for n in names)
    assert download_name(IDS[0]) == "50f3e8ae-1c2d-4e5f-8a9b-0c1d2e3f4a5b.mp4"


# -- pages: the ?gen= link, cards, and Compare's ?ids= link ---------------------------------------


def finished(store: Store, ids: list[str], *, batch_id: str | None = None) -> None:
    body = catalog.validate("veo2", {"prompt": "an id of every shape"}).body
    for n, gen_id in enumerate(ids):
        store.add(Answer(gen_id, Status.QUEUED), request={**body, "seed": n}, server="elsewhere", created_at=1000 + n, batch_id=batch_id)
        store.apply(Answer(gen_id, Status.COMPLETED, video_url="https://cdn.example.com/x.mp4"), count_poll=False)
        video = store.videos_dir / video_filename(gen_id)  # the page plays only files in its own videos folder
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        store.set_video_path(gen_id, video)


def test_history_opens_each_shape_from_its_link(app, data_dir):
    store = Store(data_dir)
    finished(store, IDS)
    frame = history.frame(store.table_rows(), link_prefix="history?gen=")
    app.switch_page("pages/history.py")
    for gen_id, link in zip(frame["id"], frame["video"]):
        app.query_params["gen"] = parse_qs(urlsplit(link).query)["gen"][0]  # what the browser hands the page
        at = run(app)
        assert not any("not in this history" in w.value for w in at.warning), gen_id
        assert at.code[0].value == gen_id
        assert any(b.label == "Delete" for b in at.button)


def test_cards_of_every_shape_and_compares_link_round_trips(app, data_dir):
    store = Store(data_dir)
    finished(store, IDS, batch_id="every-shape")
    finished(store, ALIKE)
    app.session_state["my_generations"] = IDS + ALIKE
    at = run(app)  # two ids alike but for ":" and "/" would have made one widget key twice
    link = next(e for e in at.get("page_link") if e.proto.label == "Open in Compare")
    assert not link.proto.disabled
    carried = parse_qs(link.proto.query_string)["ids"][0]
    assert carried.split(",") == [r.id for r in store.batch("every-shape")]

    at.switch_page("pages/compare.py")
    # The link's own value, then two of them as Streamlit writes any link: each as the page reads it back.
    for query in (link.proto.query_string, process_query_params({"ids": ",".join(IDS[-2:])})):
        at.query_params["ids"] = parse_qs(query)["ids"][0]
        at = run(at)
        wanted = parse_qs(query)["ids"][0].split(",")
        assert not any("left out" in w.value for w in at.warning)
        assert at.multiselect[0].value == wanted[:4] and len(at.get("video")) == min(len(wanted), 4)
