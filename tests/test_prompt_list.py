"""History's Prompts view at page level (AppTest): choosing it, the counts and ratings each prompt shows, the
search, the scope, pages, the latest video's link, and Load filling the Generate form."""

from __future__ import annotations

from components import session
from tests.apptest import owned_history, person, run, signed_in, texts
from videogen.api import Answer, Status
from videogen.connection import account_of
from videogen.store import Store

FOX = "A red fox trotting through fresh snow"
OCEAN = "Ocean waves at night"
LATEST_FOX = FOX.replace("fresh snow", "fresh  snow")  # the latest run's spacing, kept as typed
KLING = "kling-video/v1.6/standard/text-to-video"


def add(store: Store, gen_id: str, request: dict, *, at: float, status: Status = Status.COMPLETED) -> None:
    store.add(Answer(gen_id, Status.QUEUED), request=request, server="elsewhere", account=account_of("x"), created_at=1_000 + at)
    done = status is Status.COMPLETED
    store.apply(Answer(gen_id, status, video_url=f"https://cdn.example.com/{gen_id}.mp4" if done else None, error=None if done else "no"))


def fox_and_ocean(data_dir) -> Store:
    """The fox three times (once with other spacing, the latest on another model and settings), the ocean once."""
    store = Store(data_dir)
    add(store, "fox-1", {"model": "veo2", "prompt": FOX, "duration": 5, "aspect_ratio": "16:9"}, at=0)
    add(store, "ocean-1", {"model": "veo2", "prompt": OCEAN}, at=1, status=Status.FAILED)
    add(store, "fox-2", {"model": "veo2", "prompt": FOX.replace(" fox ", "  fox\n"), "duration": 5}, at=2)
    latest = {"model": "veo2", "prompt": LATEST_FOX, "duration": 8, "aspect_ratio": "9:16", "seed": 7, "enhance_prompt": False}
    add(store, "fox-3", latest, at=3, status=Status.FAILED)
    return store


def prompts_view(at, query: dict | None = None):
    at.switch_page("pages/history.py")
    at.query_params.update(query or {})
    at = run(at)
    if at.segmented_control(key=session.HISTORY_VIEW).value != "Prompts":
        at.segmented_control(key=session.HISTORY_VIEW).set_value("Prompts")
        at = run(at)
    return at


def load_buttons(at) -> list:
    return [b for b in at.button if b.label == "Load"]


def form_parent(at) -> str | None:
    return at.session_state[session.FORM_PARENT] if session.FORM_PARENT in at.session_state else None


def facts(at) -> list[str]:
    """Each row's caption line: runs, models, best rating, last run."""
    return [c.value for c in at.caption if " run" in c.value and "last run" in c.value]


def test_prompts_lists_each_prompt_once_latest_first_with_its_runs(app, data_dir):
    fox_and_ocean(data_dir)
    at = prompts_view(run(app))
    assert at.segmented_control(key=session.HISTORY_VIEW).value == "Prompts"
    assert not at.dataframe and not at.get("bidi_component")  # neither the table nor the gallery
    assert texts(at) == [LATEST_FOX, OCEAN]  # the latest run's exact text
    fox, ocean = facts(at)
    assert fox.startswith("**3 runs** · Veo 2") and "not rated" in fox
    assert ocean.startswith("**1 run** · ")
    assert len(load_buttons(at)) == 2
    assert any(c.value == "2 prompts" for c in at.caption)


def test_gallery_stays_the_default(app, data_dir):
    fox_and_ocean(data_dir)
    app.switch_page("pages/history.py")
    at = run(app)
    assert at.segmented_control(key=session.HISTORY_VIEW).value == "Gallery" and not load_buttons(at)


def test_the_address_opens_the_prompts(app, data_dir):
    fox_and_ocean(data_dir)
    app.switch_page("pages/history.py")
    app.query_params["view"] = "Prompts"
    at = run(app)
    assert at.segmented_control(key=session.HISTORY_VIEW).value == "Prompts"
    assert len(load_buttons(at)) == 2


def test_the_search_box_finds_prompts_whatever_their_case_and_spacing(app, data_dir):
    fox_and_ocean(data_dir)
    at = prompts_view(run(app))
    at.text_input(key="hist_search").input("RED   fox")
    at = run(at)
    assert texts(at) == [LATEST_FOX] and facts(at)[0].startswith("**3 runs**")
    at.text_input(key="hist_search").input("owl")
    at = run(at)
    assert not load_buttons(at) and any("No prompt matches" in i.value for i in at.info)


def test_the_best_rating_is_ones_own_and_a_rejected_run_counts_for_nothing(app, data_dir):
    store = fox_and_ocean(data_dir)
    store.set_rating("fox-1", 3)
    store.set_rating("fox-2", 5)
    store.set_rejected("fox-2", True)
    at = prompts_view(run(app))
    fox = facts(at)[0]
    assert fox.startswith("**2 runs**") and "best ★★★☆☆" in fox  # Hide rejected is on: fox-2 is set aside
    at.toggle(key=session.HISTORY_HIDE_REJECTED).set_value(False)
    at = run(at)
    fox = facts(at)[0]
    assert fox.startswith("**3 runs**") and "best ★★★☆☆" in fox  # counted as a run, not for its stars


def test_the_poster_opens_the_latest_finished_video_and_none_finished_has_no_link(app, data_dir):
    fox_and_ocean(data_dir)
    at = prompts_view(run(app))
    posters = [h.proto.body for h in at.get("html") if "prompt-poster" in h.proto.body and "<img" in h.proto.body]
    fox, ocean = posters
    assert 'href="history?gen=fox-2"' in fox  # fox-3 failed: fox-2 is the latest finished
    assert "href" not in ocean and "No finished video yet" in ocean


def test_load_puts_the_latest_runs_request_in_the_generate_form_as_its_version(app, data_dir, sim):
    fox_and_ocean(data_dir)
    at = prompts_view(run(app))
    load_buttons(at)[0].click()
    at = run(at)
    assert any("Loaded a previous generation" in i.value for i in at.info)  # the Generate page, which app.py switched to
    at.switch_page("pages/generate.py")  # AppTest's own page, for the runs that follow
    at = run(at)
    assert at.text_area(key="gen_prompt").value == LATEST_FOX
    assert at.segmented_control(key="gen_duration").value == 8 and at.segmented_control(key="gen_aspect_ratio").value == "9:16"
    assert at.text_input(key="gen_seed").value == "7" and at.toggle(key="gen_enhance_prompt").value is False
    assert form_parent(at) == "fox-3"
    assert sim.count("create") == 0


def test_load_of_a_run_deleted_meanwhile_says_so_and_loads_nothing(app, data_dir):
    store = fox_and_ocean(data_dir)
    at = prompts_view(run(app))
    store.delete("fox-3")
    load_buttons(at)[0].click()
    at = run(at)
    assert any("no longer in the history" in t.value for t in at.toast)
    assert form_parent(at) is None and not at.text_area  # nothing loaded, and still on History
    assert len(load_buttons(at)) == 2  # the ocean and the fox, whose latest run is now fox-2


def test_signed_in_one_sees_ones_own_prompts_until_the_team_view(app, data_dir):
    owned_history(data_dir)
    at = prompts_view(run(signed_in(app, person("ana-5f1c", "ana@example.com", True))))
    assert texts(at) == ["ana-2 at sea", "ana-1 at sea"]
    at.toggle(key=session.TEAM_VIEW).set_value(True)
    at = run(at)
    assert texts(at) == ["ben-1 at sea", "ana-2 at sea", "ana-1 at sea"]


def test_thirty_prompts_are_two_pages_and_a_new_search_starts_at_the_first(app, data_dir):
    store = Store(data_dir)
    for i in range(30):
        add(store, f"g{i:02d}", {"model": "veo2", "prompt": f"Clip number {i}"}, at=i)
    at = prompts_view(run(app))
    assert len(load_buttons(at)) == 25 and texts(at)[0] == "Clip number 29"
    assert any("page 1 of 2" in c.value for c in at.caption)
    at.button(key="prompts-next-end").click()
    at = run(at)
    assert texts(at) == [f"Clip number {i}" for i in range(4, -1, -1)] and at.button(key="prompts-next-top").disabled
    at.text_input(key="hist_search").input("Clip")
    at = run(at)
    assert texts(at)[0] == "Clip number 29" and at.button(key="prompts-previous-top").disabled
