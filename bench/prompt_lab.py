"""Prompt lab: the word diff of two versions of a long prompt.

The prompts are made up (fixed seed) from prompt-like phrases, with commas, full stops and paragraph
breaks: the first is cut at 4,000 characters (this project's prompt cap), the second is the first with
about one word in ten replaced, deleted or followed by a new one. The figure is the median of RUNS calls
of `prompt_diff.word_diff()`, after one warm-up. The baseline, in the same run, is the floor under it:
the same `SequenceMatcher` on `str.split()` of both prompts, opcodes only, no pieces built. Target: ≤ 20 ms.

Also shown, for why whitespace rides with the word before it: the same diff with every whitespace run
a token of its own (words, whitespace runs and punctuation marks), opcodes only.

History's Lineage, with AppTest (app.py in demo mode, History as its table): a data dir of a few unrelated
generations and a family of VERSIONS versions of one prompt, each a child of one of the few before it (so
the tree both branches and runs deep) with a word or three of its parent's prompt edited, and now and then
a new seed. Every version and the unrelated ones are finished with their own saved clip, poster and
filmstrip, as the poller leaves them. The figure is the median History run with `?gen=` naming the newest
version, whose detail draws the Lineage expander (the whole tree read, one page of versions drawn); the
baseline, in the same run and alternating with it, the same page with `?gen=` naming an unrelated
generation, whose detail has no Lineage. Target: ≤ 150 ms.

The recipe: an 8 s 720p clip from the simulator's renderer, copied afresh before each run; the figure is
the median `write_recipe()` of a recipe holding a 4,000-character prompt (the largest a person writes),
the baseline a plain `shutil.copyfile` of the same clip, alternating with it: the floor under rewriting a
file. Targets: ≤ 0.2 s, and the file at most 1.05× its size without the recipe.

Recall: the Generate page (app.py in demo mode, over a history of HISTORY_ROWS rows) run with its Earlier
and Later buttons and their hidden keys component, against the same page run with `prompt_recall.buttons`
and `prompt_recall.keys` made no-ops, each in its own AppTest session, runs alternating so that drift
hits both. Target: ≤ 1.1× without.
"""

from __future__ import annotations

import difflib
import gc
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import lineage_view, prompt_recall, session
from videogen import catalog, prompt_diff
from videogen.api import Answer, Status
from videogen.catalog import UNPUBLISHED_PROMPT_LIMIT
from videogen.connection import DEMO_KEY, DEMO_SERVER, account_of
from videogen.polling import video_filename
from videogen.posters import make_posters, poster_files
from videogen.recipe import Recipe, read_recipe, write_recipe
from videogen.simulator.render import render_clip
from videogen.store import Store

from .common import ROOT, app_environment, fill_history, history_dir, median, sample_clip, timed_run
from .report import Row, Section, ratio

RUNS = 21
SEED = 23
EDIT_SHARE = 0.1
TARGET_MS = 20.0

VERSIONS = 200
OTHERS = 20  # unrelated generations beside the family, one of them the baseline's
PAGE_RUNS = 21
LINEAGE_TARGET_S = 0.150
CLIP_SECONDS = 8
CLIP_RESOLUTION = "720p"
RECIPE_RUNS = 11
RECIPE_TARGET_S = 0.2
RECIPE_SIZE_TARGET = 1.05
HISTORY_ROWS = 3_000
# Recall costs about 1% of a page run, under the runs' own scatter of a few %: more runs steady the medians.
RECALL_RUNS = 41
RECALL_TARGET = 1.1
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")

_PHRASES = [
    "a red fox trotting through fresh snow",
    "the camera pans slowly to the left",
    "warm golden hour light",
    "shallow depth of field",
    "35 mm film grain",
    "a lighthouse on a windy cliff",
    "waves breaking on black rocks",
    "slow motion",
    "the fox stops and looks back at the camera",
    "soft focus on the background",
    "volumetric fog between the pines",
    "a tiny robot walking along a rain-soaked street",
    "neon signs reflected in the puddles",
    "handheld documentary style",
    "wide establishing shot",
    "the sky turns from orange to deep blue",
]
_WORDS = sorted({word for phrase in _PHRASES for word in phrase.split()}) + ["gently", "suddenly", "crimson", "misty", "distant"]
# The naive tokenisation: every whitespace run a token, as often suggested for a word diff.
_SPACED_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


def made_up_prompts(rng: random.Random) -> tuple[str, str]:
    """(a 4,000-character prompt, the same with one word in ten changed)."""
    sentences = []
    while sum(len(s) + 1 for s in sentences) < UNPUBLISHED_PROMPT_LIMIT + 200:
        sentence = ", ".join(rng.sample(_PHRASES, rng.randint(2, 4)))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        if rng.random() < 0.15:
            sentences.append("\n\n")
    old = " ".join(sentences).replace(" \n\n ", "\n\n")[:UNPUBLISHED_PROMPT_LIMIT]
    words = old.split(" ")
    for _ in range(int(len(words) * EDIT_SHARE)):
        i = rng.randrange(len(words))
        roll = rng.random()
        if roll < 0.5:
            words[i] = rng.choice(_WORDS)
        elif roll < 0.75:
            del words[i]
        else:
            words.insert(i + 1, rng.choice(_WORDS))
    return old, " ".join(words)


def _times(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _alternating(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[list[float], list[float]]:
    """`runs` timings of each, taken in turn after one warm-up each, so a slow spell of the machine hits both
    alike. Each call returns its own seconds, so what is set up around the timed part stays out of it."""
    a(), b()
    first: list[float] = []
    second: list[float] = []
    for i in range(runs):
        # Which goes first flips every pair (ABBA): the first run of a pair is a few ms slower, whichever it is.
        for call, into in [(a, first), (b, second)] if i % 2 == 0 else [(b, second), (a, first)]:
            # A page run leaves enough garbage for a full collection to land, tens of ms long, in whichever run
            # comes next: collected beforehand, each run pays for its own.
            gc.collect()
            into.append(call())
    return first, second


@contextmanager
def _demo_app(data_dir: Path) -> Iterator[None]:
    with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
        yield


# -- the Lineage ---------------------------------------------------------------


def _edited(prompt: str, rng: random.Random) -> str:
    """`prompt` with one to three words replaced, deleted or followed by a new one: what a person tries next."""
    words = prompt.split(" ")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        roll = rng.random()
        if roll < 0.5:
            words[i] = rng.choice(_WORDS)
        elif roll < 0.7 and len(words) > 5:
            del words[i]
        else:
            words.insert(i + 1, rng.choice(_WORDS))
    return " ".join(words)


def _own_clip(store: Store, gen_id: str, made) -> None:
    """A saved copy of the clip for `gen_id`, with its poster and filmstrip, as the poller leaves them."""
    video = store.videos_dir / video_filename(gen_id)
    shutil.copyfile(made.video, video)
    files = poster_files(video)
    shutil.copyfile(made.poster, files.poster)
    shutil.copyfile(made.strip, files.strip)
    store.set_video_path(gen_id, video)


def lineage_store(work: Path, versions: int) -> tuple[Path, str, str, int]:
    """(data dir, the newest version's id, an unrelated generation's id, the tree's depth)."""
    data_dir = work / "prompt-lab-lineage"
    clip = sample_clip(work)
    store = fill_history(data_dir, OTHERS, video=clip, seed=SEED, all_completed=True)
    made = poster_files(work / "prompt-lab-clip" / clip.name)
    if not made.ready:
        made.video.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, made.video)
        make_posters(made.video)
    store.videos_dir.mkdir(parents=True, exist_ok=True)
    (plain, *_) = store.records()
    _own_clip(store, plain.id, made)

    rng = random.Random(SEED)
    account = account_of(DEMO_KEY)
    first = ", ".join(rng.sample(_PHRASES, 5))
    prompts, seeds, ids, depths = [first[0].upper() + first[1:] + "."], [rng.randrange(1, 2**31)], [], []
    started = time.time() - versions * 60
    for i in range(versions):
        parent = rng.randrange(max(0, i - 8), i) if i else None
        if parent is not None:
            prompts.append(_edited(prompts[parent], rng))
            seeds.append(rng.randrange(1, 2**31) if rng.random() < 0.2 else seeds[parent])
        body = catalog.validate("veo2", {"prompt": prompts[i], "aspect_ratio": "16:9", "duration": 8, "seed": seeds[i]}).body
        gen_id = f"version-{i:03d}:veo2"
        store.add(
            Answer(gen_id, Status.QUEUED, "queued"),
            request=body,
            server=DEMO_SERVER,
            account=account,
            created_at=started + i * 60,
            parent_id=None if parent is None else ids[parent],
        )
        store.apply(
            Answer(gen_id, Status.COMPLETED, "completed", video_url=f"http://127.0.0.1:8765/videos/v{i}.mp4", credits_used=192_000.0)
        )
        _own_clip(store, gen_id, made)
        ids.append(gen_id)
        depths.append(0 if parent is None else depths[parent] + 1)
    return data_dir, ids[-1], plain.id, max(depths)


def lineage_runs(data_dir: Path, version_id: str, plain_id: str, versions: int, runs: int) -> dict[str, list[float]]:
    """History runs with the newest version's detail open, and with an unrelated generation's; the Lineage's
    own share of the first (`lineage_view.show`, timed around the call)."""
    shares: list[float] = []
    show = lineage_view.show

    def timed_show(*args, **kwargs):
        started = time.perf_counter()
        try:
            return show(*args, **kwargs)
        finally:
            shares.append(time.perf_counter() - started)

    lineage_view.show = timed_show  # components/history_table.py calls it through the module
    try:
        with_lineage, without = _lineage_pages(data_dir, version_id, plain_id, versions, runs)
    finally:
        lineage_view.show = show
    return {"with_lineage_s": with_lineage, "no_lineage_s": without, "lineage_show_s": shares[-runs:]}


def _lineage_pages(data_dir: Path, version_id: str, plain_id: str, versions: int, runs: int) -> tuple[list[float], list[float]]:
    with _demo_app(data_dir):
        pages = {}
        for gen_id in (version_id, plain_id):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            timed_run(at)  # the Generate page, which opens the demo connection
            at.switch_page("pages/history.py")
            at.session_state[session.HISTORY_VIEW] = "Table"
            at.query_params["gen"] = gen_id
            pages[gen_id] = at
        with_lineage, without = _alternating(lambda: timed_run(pages[version_id]), lambda: timed_run(pages[plain_id]), runs)
        for gen_id, at in pages.items():
            lineage = [e for e in at.expander if e.label == "Lineage"]
            if not at.code or at.code[0].value != gen_id:
                raise RuntimeError(f"History's detail does not show {gen_id}")
            if gen_id == version_id and (
                len(lineage) != 1 or f"{versions:,} versions" not in " ".join(c.value for c in lineage[0].caption)
            ):
                raise RuntimeError(f"the Lineage does not show {versions} versions")
            if gen_id == plain_id and lineage:
                raise RuntimeError("a generation with no versions has a Lineage")
    return with_lineage, without


# -- the recipe ----------------------------------------------------------------


def recipe_runs(work: Path, recipe: Recipe, runs: int) -> dict:
    """write_recipe and a plain copy of the same clip, each into a fresh copy of it; the sizes before and after."""
    clip = work / f"prompt-lab-{CLIP_SECONDS}s-{CLIP_RESOLUTION}.mp4"
    if not clip.exists():
        render_clip(clip, prompt=recipe.body["prompt"][:200], aspect_ratio="16:9", duration=CLIP_SECONDS, resolution=CLIP_RESOLUTION)
    target, copied = work / "prompt-lab-recipe" / "clip.mp4", work / "prompt-lab-recipe" / "copy.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)

    def write() -> float:
        shutil.copyfile(clip, target)
        started = time.perf_counter()
        write_recipe(target, recipe)
        return time.perf_counter() - started

    def copy() -> float:
        copied.unlink(missing_ok=True)
        started = time.perf_counter()
        shutil.copyfile(clip, copied)
        return time.perf_counter() - started

    written, plain = _alternating(write, copy, runs)
    if read_recipe(target) != recipe:
        raise RuntimeError("the clip did not read back with its recipe")
    return {
        "clip_seconds": CLIP_SECONDS,
        "resolution": CLIP_RESOLUTION,
        "recipe_chars": len(recipe.to_json()),
        "clip_bytes": clip.stat().st_size,
        "with_recipe_bytes": target.stat().st_size,
        "write_recipe_s": written,
        "copyfile_s": plain,
    }


# -- recall --------------------------------------------------------------------


def recall_runs(data_dir: Path, runs: int) -> dict[str, list[float]]:
    """Generate page runs with recall, and with its buttons and keys component drawing nothing; recall's own
    share of the first (both calls, timed around them)."""
    buttons, keys = prompt_recall.buttons, prompt_recall.keys
    shares: list[float] = []

    def timed(call: Callable[..., None]) -> Callable[..., None]:
        def timed_call(*args) -> None:
            started = time.perf_counter()
            try:
                call(*args)
            finally:
                shares.append(time.perf_counter() - started)

        return timed_call

    def run_with(at: AppTest, drawn_buttons: Callable[..., None], drawn_keys: Callable[[], None]) -> float:
        # components/prompt_form.py calls both through the module: swapped for this run alone.
        prompt_recall.buttons, prompt_recall.keys = drawn_buttons, drawn_keys
        try:
            return timed_run(at)
        finally:
            prompt_recall.buttons, prompt_recall.keys = buttons, keys

    with _demo_app(data_dir):
        on, off = (AppTest.from_file(str(ROOT / "app.py"), default_timeout=120) for _ in range(2))
        with_recall, without_recall = _alternating(
            lambda: run_with(on, timed(buttons), timed(keys)), lambda: run_with(off, lambda conn: None, lambda: None), runs
        )
        labels = {True: [b.label for b in on.button], False: [b.label for b in off.button]}
        if "Earlier prompt" not in labels[True] or "Earlier prompt" in labels[False]:
            raise RuntimeError(f"recall was not drawn with it on, or was with it off: {labels}")
    # Two calls a run: the buttons' and the keys'.
    own = [shares[k] + shares[k + 1] for k in range(len(shares) - 2 * runs, len(shares), 2)]
    return {"with_recall_s": with_recall, "without_recall_s": without_recall, "recall_calls_s": own}


def run(quick: bool, work: Path) -> Section:
    runs = 5 if quick else RUNS
    versions, page_runs, recipe_n = (40, 3, 3) if quick else (VERSIONS, PAGE_RUNS, RECIPE_RUNS)
    history_rows, recall_n = (200, 3) if quick else (HISTORY_ROWS, RECALL_RUNS)
    old, new = made_up_prompts(random.Random(SEED))
    pieces = prompt_diff.word_diff(old, new)
    if "".join(p.text for p in pieces if p.op != "added") != old or "".join(p.text for p in pieces if p.op != "removed") != new:
        raise RuntimeError("the word diff does not give back both prompts")
    ours = _times(lambda: prompt_diff.word_diff(old, new), runs)
    split = _times(lambda: difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).get_opcodes(), runs)
    spaced = _times(
        lambda: difflib.SequenceMatcher(None, _SPACED_TOKENS.findall(old), _SPACED_TOKENS.findall(new), autojunk=False).get_opcodes(),
        max(3, runs // 3),  # far slower: fewer runs keep the section short
    )
    ours_s, split_s, spaced_s = median(ours), median(split), median(spaced)

    data_dir, version_id, plain_id, depth = lineage_store(work, versions)
    lineage_figures = lineage_runs(data_dir, version_id, plain_id, versions, page_runs)
    lineage_s, plain_s = median(lineage_figures["with_lineage_s"]), median(lineage_figures["no_lineage_s"])
    show_s = median(lineage_figures["lineage_show_s"])

    body = catalog.validate("veo2", {"prompt": old, "aspect_ratio": "16:9", "duration": CLIP_SECONDS, "seed": SEED}).body
    recipe = Recipe(body=body, model="veo2", generation_id=version_id, parent_id=plain_id)
    recipe_figures = recipe_runs(work, recipe, recipe_n)
    write_s, copy_s = median(recipe_figures["write_recipe_s"]), median(recipe_figures["copyfile_s"])
    grown = recipe_figures["with_recipe_bytes"] / recipe_figures["clip_bytes"]

    recall_figures = recall_runs(history_dir(work, history_rows, work / "prompt-lab-recall"), recall_n)
    recall_s, no_recall_s = median(recall_figures["with_recall_s"]), median(recall_figures["without_recall_s"])
    calls_s = median(recall_figures["recall_calls_s"])
    recall_ratio = ratio(recall_s, no_recall_s)

    section = Section(
        "prompt_lab",
        details={
            "old_chars": len(old),
            "new_chars": len(new),
            "old_words": len(old.split()),
            "edit_share": EDIT_SHARE,
            "seed": SEED,
            "runs": runs,
            "pieces": len(pieces),
            "summary": prompt_diff.summary(pieces),
            "word_diff_s": ours,
            "split_opcodes_s": split,
            "spaced_tokens_opcodes_s": spaced,
            "lineage": {
                "versions": versions,
                "depth": depth,
                "other_generations": OTHERS,
                "opened": version_id,
                "baseline_opened": plain_id,
                "runs": page_runs,
                **lineage_figures,
            },
            "recipe": {"runs": recipe_n, **recipe_figures},
            "recall": {"history_rows": history_rows, "runs": recall_n, **recall_figures},
        },
    )
    label = f"two {len(old):,}-character prompts, {EDIT_SHARE:.0%} of words changed"
    section.rows += [
        Row(
            "prompt_lab",
            f"Word diff of {label}",
            ours_s * 1000,
            "ms",
            split_s * 1000,
            "SequenceMatcher on str.split, opcodes only",
            ratio(ours_s, split_s),
            "×str.split",
            f"≤ {TARGET_MS:g} ms",
            ours_s * 1000 <= TARGET_MS,
        ),
        Row(
            "prompt_lab",
            "The same with whitespace runs as tokens, opcodes only (info)",
            spaced_s * 1000,
            "ms",
            ours_s * 1000,
            "the word diff",
            ratio(spaced_s, ours_s),
            "×word diff",
        ),
        Row(
            "prompt_lab",
            f"History detail with its Lineage, {versions:,} versions (depth {depth})",
            lineage_s * 1000,
            "ms",
            plain_s * 1000,
            "detail with no Lineage",
            ratio(lineage_s, plain_s),
            "×no Lineage",
            f"≤ {LINEAGE_TARGET_S * 1000:g} ms",
            lineage_s <= LINEAGE_TARGET_S,
        ),
        Row(
            "prompt_lab",
            "  of which the Lineage itself (lineage_view.show; info)",
            show_s * 1000,
            "ms",
            lineage_s * 1000,
            "whole run",
            ratio(show_s, lineage_s),
            "share",
        ),
        Row(
            "prompt_lab",
            f"Writing the recipe into an {CLIP_SECONDS} s {CLIP_RESOLUTION} clip",
            write_s * 1000,
            "ms",
            copy_s * 1000,
            "shutil.copyfile of the clip",
            ratio(write_s, copy_s),
            "×copyfile",
            f"≤ {RECIPE_TARGET_S * 1000:g} ms",
            write_s <= RECIPE_TARGET_S,
        ),
        Row(
            "prompt_lab",
            f"  the clip's size with its {recipe_figures['recipe_chars']:,}-character recipe",
            recipe_figures["with_recipe_bytes"] / 1000,
            "kB",
            recipe_figures["clip_bytes"] / 1000,
            "without",
            grown,
            "×without",
            f"≤ {RECIPE_SIZE_TARGET:g}× without",
            grown <= RECIPE_SIZE_TARGET,
        ),
        Row(
            "prompt_lab",
            f"Generate page run with recall, {history_rows:,} rows of history",
            recall_s * 1000,
            "ms",
            no_recall_s * 1000,
            "recall off",
            recall_ratio,
            "×recall off",
            f"≤ {RECALL_TARGET:g}× recall off",
            recall_ratio is not None and recall_ratio <= RECALL_TARGET,
        ),
        Row(
            "prompt_lab",
            "  of which recall itself (buttons and keys; info)",
            calls_s * 1000,
            "ms",
            recall_s * 1000,
            "whole run",
            ratio(calls_s, recall_s),
            "share",
        ),
    ]
    return section
