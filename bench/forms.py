"""Forms: building the form of every model, and switching model on the Generate page (AppTest, no browser).

Building: a function script draws one model's form as the Generate page
does after a change of model (reconcile with the model before, the layout from
the schema with `form_builder.layout`'s cache cleared, then every widget, media
inputs included); it runs once per catalog model and the times, taken inside
the script so that AppTest's own parsing is left out, are summed. Baseline:
the same script for veo2's form alone.

Switching: app.py in demo mode on an empty data dir; after one untimed run,
each timed run picks the next model in a fixed list of models of all three
kinds (a full page run: picker, reconcile, form, cards). Baseline: the same
page run again without a change of model.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from videogen import catalog

from .common import ROOT, app_environment, median, timed_run
from .report import Row, Section, ratio

APP = ROOT / "app.py"
BUILD_TARGET_S = 1.0
SWITCH_TARGET_S = 0.150
SWITCHES = 12
_CLEARED_ENV = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


def _form_script(data_dir: str) -> None:
    # Runs as an AppTest script: AppTest copies this function's source, so imports live inside.
    import time
    from pathlib import Path

    import streamlit as st

    from components import form_builder
    from videogen import catalog

    model = catalog.get(st.session_state["bench_model"])
    last = catalog.get(st.session_state.get("bench_last", model.id))
    form_builder.layout.cache_clear()  # each form built from its schema, not from the previous run's layout
    started = time.perf_counter()
    form_builder.reconcile(last, model)  # as the Generate page does on a change of model
    form_builder.prepare(model)
    form_builder.draw_media(model, Path(data_dir), list)
    with st.form("generate"):
        form_builder.draw_fields(model, advanced=False)
        with st.expander("Advanced"):
            form_builder.draw_fields(model, advanced=True)
        st.form_submit_button("Generate")
    st.session_state["bench_build_s"] = time.perf_counter() - started
    st.session_state["bench_last"] = model.id


def build_times(model_ids: list[str], data_dir: Path) -> dict[str, float]:
    """Seconds to build each model's form, one page run each (so widget keys never collide), timed inside the run."""
    at = AppTest.from_function(_form_script, kwargs={"data_dir": str(data_dir)}, default_timeout=60)
    times = {}
    for model_id in [model_ids[0], *model_ids]:  # the first run imports and warms caches
        at.session_state["bench_model"] = model_id
        at.run()
        if at.exception:
            raise RuntimeError(f"the form of {model_id} raised: {[e.value for e in at.exception][:3]}")
        times[model_id] = at.session_state["bench_build_s"]
    return times


def switch_models() -> list[str]:
    """A fixed tour over every kind and several vendors."""
    by_kind = {kind: sorted(m.id for m in catalog.models().values() if m.kind == kind) for kind in catalog.KINDS}
    tour = []
    for i in range(SWITCHES):
        kind = catalog.KINDS[i % len(catalog.KINDS)]
        models = by_kind[kind]
        tour.append(models[(i * 7) % len(models)])
    return tour


def switch_times(data_dir: Path) -> tuple[list[float], list[float]]:
    """(page runs that change model, page runs that do not)."""
    with app_environment(PLAYGROUND_DATA_DIR=str(data_dir), PLAYGROUND_DEMO_SECONDS="45", **dict.fromkeys(_CLEARED_ENV)):
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        switched, same = [], []
        for model_id in switch_models():
            at.selectbox(key="gen_model").set_value(model_id)
            switched.append(timed_run(at))
            if at.session_state["gen_model"] != model_id or not at.button(key="generate"):
                raise RuntimeError(f"the Generate page did not show the form of {model_id}")
            same.append(timed_run(at))
        return switched, same


def run(quick: bool, work: Path) -> Section:
    every = sorted(catalog.models())
    rounds = 1 if quick else 3
    totals = [sum(build_times(every, work / "forms-data").values()) for _ in range(rounds)]
    veo2 = [build_times(["veo2"], work / "forms-data")["veo2"] for _ in range(rounds * 5)]
    switched, same = switch_times(work / "forms-switch")
    build_s, veo2_s = median(totals), median(veo2)
    switch_s, same_s = median(switched), median(same)
    section = Section("forms")
    section.details = {
        "models": len(every),
        "build_totals_s": totals,
        "veo2_form_s": veo2,
        "switch_runs_s": switched,
        "same_model_runs_s": same,
        "tour": switch_models(),
    }
    section.rows = [
        Row(
            "forms",
            f"build the forms of all {len(every)} models (sum)",
            build_s,
            "s",
            veo2_s,
            "veo2's form alone",
            ratio(build_s, veo2_s),
            "× veo2",
            f"≤ {BUILD_TARGET_S:g} s",
            build_s <= BUILD_TARGET_S,
        ),
        Row(
            "forms",
            "Generate page run that switches model (median)",
            switch_s * 1000,
            "ms",
            same_s * 1000,
            "same page, no switch",
            ratio(switch_s, same_s),
            "× no switch",
            f"≤ {SWITCH_TARGET_S * 1000:g} ms",
            switch_s <= SWITCH_TARGET_S,
        ),
        Row(
            "forms",
            "Generate page run that switches model (slowest, info)",
            max(switched) * 1000,
            "ms",
            max(same) * 1000,
            "slowest without a switch",
            ratio(max(switched), max(same)),
            "×",
        ),
    ]
    return section
