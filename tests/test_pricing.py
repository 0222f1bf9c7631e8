"""Prices before the first run: the server's price list, read, kept, revalidated and quoted, over loopback HTTP."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests

from tests.apptest import run
from tests.helpers import FAST_JOB_SECONDS, TEST_KEY, minimal_body
from videogen import catalog
from videogen.connection import connect
from videogen.pricing import CREDITS_PER_USD, REFRESH_SECONDS, RETRY_SECONDS, Price, PriceList, dollars
from videogen.simulator import Fault
from videogen.simulator.prices import tariff, usd_for

NOV_28 = datetime(2026, 11, 28, 12).timestamp()
DEC_01 = datetime(2026, 12, 1, 12).timestamp()
LINKS = {"image_url": "https://example.com/i.png", "video_url": "https://example.com/v.mp4", "audio_url": "https://example.com/a.mp3"}


def prices_for(sim, data_dir, **kw) -> PriceList:
    kw.setdefault("clock", lambda: DEC_01)
    return PriceList(sim.url, data_dir, server=sim.url, **kw)


def loaded(sim, data_dir, **kw) -> PriceList:
    prices = prices_for(sim, data_dir, **kw)
    assert prices.refresh()
    return prices


def list_requests(sim) -> list:
    return [r for r in sim.requests if r.endpoint == "models"]


def per_second(price: float, unit: str = "second", per: float = 1) -> dict:
    return {"kind": "variants", "dimensions": [], "variants": [{"when": {}, "price": price, "unit": unit, "per": per}]}


# -- quoting -----------------------------------------------------------------------


def test_veo2_is_found_under_the_vendors_canonical_id_and_priced_per_second(sim, data_dir):
    listed = requests.get(sim.url + "/v1/models?include=pricing", timeout=5).json()["data"]
    assert "veo2" not in {item["id"] for item in listed}  # listed as the vendor lists it
    prices = loaded(sim, data_dir)
    price = prices.price({"model": "veo2", "prompt": "p", "duration": 5})
    assert price == Price(1.95, "$1.95: 5 s × $0.39/s, vendor price list of 2026-12-01")
    assert price.credits == 3_900_000 == 1.95 * CREDITS_PER_USD
    # A blank duration is the model's default (5 s); a chosen one multiplies.
    assert prices.price({"model": "veo2"}).usd == 1.95
    assert prices.price({"model": "veo2", "duration": "8"}).usd == pytest.approx(3.12)


def test_a_model_the_list_names_only_by_an_alias_is_matched_on_it(sim, data_dir):
    sim.listing.remove("veo2")
    sim.listing.add({"id": "google/veo-2.0-renamed", "aliases": ["VEO-2.0-generate-001"], "type": "video", "pricing": per_second(0.5)})
    # Another model's alias that is also an id: the id wins.
    sim.listing.add({"id": "other/model", "aliases": ["google/veo3"], "pricing": per_second(99)})
    prices = loaded(sim, data_dir)
    assert prices.price({"model": "veo2", "duration": 6}).usd == pytest.approx(3.0)
    assert prices.price({"model": "google/veo3", "duration": 4}).usd == pytest.approx(usd_for("google/veo3", {"duration": 4}))


def test_a_model_the_list_lacks_has_no_price(sim, data_dir):
    sim.listing.remove("google/veo3")
    prices = loaded(sim, data_dir)
    assert prices.price({"model": "google/veo3", "duration": 4}) is None
    assert prices.no_price_reason({"model": "google/veo3"}) == "no price known for this model"
    assert prices.price({"model": "not-a-model"}) is None


def test_variants_by_resolution_use_the_models_default_for_a_blank_field(sim, data_dir):
    prices = loaded(sim, data_dir)
    # wan-2-6-i2v: durations 5/10/15, default 10; resolutions 720p/1080p, default 1080p. Its enum says "720p",
    # veo3's says "720P": the list spells both in lower case, and both match.
    assert prices.price({"model": "alibaba/wan-2-6-i2v", "duration": 5, "resolution": "720p"}).explanation == (
        "$0.70: 5 s × $0.14/s at 720p, vendor price list of 2026-12-01"
    )
    assert prices.price({"model": "alibaba/wan-2-6-i2v"}).usd == pytest.approx(10 * 0.233)
    assert prices.price({"model": "google/veo3", "duration": 4, "resolution": "720P"}).usd == pytest.approx(4 * 0.14)
    assert prices.dimensions("alibaba/wan-2-6-i2v") == ("duration", "resolution")
    # A blank field the price depends on, with no default: the price waits for it.
    assert prices.price({"model": "x-ai/grok-imagine-video"}) is None
    assert prices.no_price_reason({"model": "x-ai/grok-imagine-video"}) == "no price known until a resolution is chosen"
    assert prices.price({"model": "x-ai/grok-imagine-video", "resolution": "480p", "duration": 2}).usd == pytest.approx(2 * 0.14 * 0.6)


def test_variants_by_duration_fixed_prices_and_per_other_than_one(sim, data_dir):
    kling = next(
        m.id
        for m in catalog.models().values()
        if tariff(m.id).unit == "video" and tariff(m.id).kind == "variants" and "duration" in catalog.get(m.id).defaults
    )
    fixed_per_second = next(m for m in catalog.models() if tariff(m).kind == "fixed" and tariff(m).unit == "second")
    fixed_per_video = next(m for m in catalog.models() if tariff(m).kind == "fixed" and tariff(m).unit == "video")
    minimax = next(m.id for m in catalog.models().values() if tariff(m.id).per == 10 and tariff(m.id).unit == "second")
    prices = loaded(sim, data_dir)
    # Kling's list gives durations as strings ("5"); the form gives integers.
    five = prices.price({"model": kling, "duration": 5})
    assert five.usd == pytest.approx(usd_for(kling, {"duration": 5}))
    assert " per video at 5 s, vendor price list of " in five.explanation
    assert prices.price({"model": kling, "duration": 10}).usd == pytest.approx(usd_for(kling, {"duration": 10}))
    assert prices.price({"model": kling, "duration": 10}).usd == pytest.approx(2 * five.usd)
    for duration in (5, "5", 5.0):
        fixed = prices.price({"model": fixed_per_second, "duration": duration})
        assert fixed.usd == pytest.approx(usd_for(fixed_per_second, {"duration": 5}))
        assert fixed.explanation.startswith(f"{dollars(fixed.usd)}: 5 s × $")
    assert prices.price({"model": fixed_per_video}).usd == pytest.approx(usd_for(fixed_per_video, {}))
    assert " per video, vendor price list of " in prices.price({"model": fixed_per_video}).explanation
    ten = prices.price({"model": minimax, "duration": 6})
    assert ten.usd == pytest.approx(usd_for(minimax, {"duration": 6}))
    assert " per 10 s" in ten.explanation


def test_a_price_by_a_field_the_model_does_not_take_is_not_quoted(sim, data_dir):
    sim.listing.set_pricing(
        "veo2",
        {
            "kind": "variants",
            "dimensions": ["resolution"],
            "variants": [{"when": {"resolution": "720p"}, "price": 0.39, "unit": "second", "per": 1}],
        },
    )
    prices = loaded(sim, data_dir)
    assert prices.price({"model": "veo2", "duration": 5}) is None
    assert prices.no_price_reason({"model": "veo2"}) == ("no price known for this model: its price depends on a field it does not take")


def test_a_variable_price_is_not_quoted(sim, data_dir):
    prices = loaded(sim, data_dir)
    assert tariff("pixverse/lip-sync").kind == "variable"
    assert prices.price({"model": "pixverse/lip-sync"}) is None
    assert prices.no_price_reason({"model": "pixverse/lip-sync"}).startswith("no price known for this model")


def test_every_listed_price_is_what_the_simulator_charges(sim, data_dir):
    prices = loaded(sim, data_dir)
    quoted = 0
    for model in catalog.models().values():
        body = catalog.validate(model, minimal_body(model, **LINKS) | {"model": model.id}).body
        price = prices.price(body)
        if price is not None:
            assert price.usd == pytest.approx(usd_for(model.id, body)), model.id
            quoted += 1
        else:
            assert tariff(model.id).kind == "variable" or "until a" in prices.no_price_reason(body), model.id
    assert quoted > 100


@pytest.mark.parametrize(
    "block",
    [
        None,
        "0.39 per second",
        {"kind": "tiered", "tiers": [{"upTo": 5, "price": 0.3}]},
        {"kind": "variants", "variants": [{"when": {}, "price": 0.39, "unit": "second"}]},  # no `per`
        {"kind": "variants", "variants": [{"when": {}, "price": 0.39, "unit": "second", "per": 0}]},
        {"kind": "variants", "variants": [{"when": {}, "price": -1, "unit": "second", "per": 1}]},
        {"kind": "variants", "variants": [{"when": {}, "price": True, "unit": "second", "per": 1}]},
        {"kind": "variants", "variants": [{"when": {}, "price": 0.01, "unit": "megapixel", "per": 1}]},
        {"kind": "variants", "variants": [{"when": {}, "price": 0.39, "unit": "frame", "per": 24}]},
        {"kind": "variants", "currency": "EUR", "variants": [{"when": {}, "price": 0.39, "unit": "second", "per": 1}]},
        {"kind": "variants", "variants": [{"when": {}, "price": 0.39, "unit": "second", "per": 1, "measure": "input"}]},
        {"kind": "variants", "variants": "all of them"},
        {"kind": "variants", "variants": []},
        {"kind": "variants", "variants": [{"when": ["duration", 5], "price": 0.39, "unit": "second", "per": 1}]},
        {
            "kind": "variants",
            "variants": [{"when": {}, "price": 0.39, "unit": "second", "per": 1}, {"when": {}, "price": 0.50, "unit": "second", "per": 1}],
        },  # which one?
        {"kind": "fixed", "currency": "USD", "units": [{"name": "token", "measure": "output", "price": 3.25, "per": 1000000}]},
        {"kind": "fixed", "units": [{"name": "second", "price": 0.1, "per": 1}, {"name": "token", "price": 1, "per": 1000}]},
        {"kind": "fixed"},
        {"kind": "variable", "currency": "USD"},
    ],
)
def test_a_shape_not_read_here_is_no_price_known_never_a_guess(sim, data_dir, block):
    sim.listing.set_pricing("veo2", block)
    prices = loaded(sim, data_dir)
    assert prices.price({"model": "veo2", "duration": 5}) is None
    assert prices.no_price_reason({"model": "veo2", "duration": 5}).startswith("no price known")
    assert prices.price({"model": "google/veo3", "duration": 4}) is not None  # the rest of the list still counts


def test_malformed_items_are_skipped_and_the_older_bare_array_is_read(sim, data_dir):
    for junk in [
        "a string",
        42,
        None,
        [],
        {"aliases": ["veo2"]},
        {"id": 7, "pricing": per_second(1)},
        {"id": "", "pricing": per_second(1)},
        {"id": "x/y", "aliases": [None, 3, {"a": 1}], "pricing": {}},
    ]:
        sim.listing.add(junk)
    sim.listing.shape = "array"
    prices = loaded(sim, data_dir)
    assert prices.price({"model": "veo2", "duration": 5}).usd == 1.95


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.html(), Fault.http(503), Fault.dropped()])
def test_a_bad_answer_changes_nothing_and_marks_the_kept_copy_stale(sim, data_dir, fault):
    prices = loaded(sim, data_dir, clock=lambda: NOV_28)
    sim.listing.set_pricing("veo2", per_second(1.0))  # a new list the bad answer must not half-install
    sim.faults.inject("models", fault, times=5)
    assert not prices.refresh()
    assert prices.price({"model": "veo2", "duration": 5}).explanation == (
        "$1.95: 5 s × $0.39/s, vendor price list of 2026-11-28, could not be refreshed"
    )


# -- keeping the list ----------------------------------------------------------------


def test_revalidation_sends_the_etag_and_takes_a_304(sim, data_dir):
    prices = loaded(sim, data_dir)
    assert prices.refresh()
    first, second = list_requests(sim)
    assert "If-None-Match" not in first.headers and first.status == 200
    assert second.headers["If-None-Match"] == requests.get(sim.url + "/v1/models?include=pricing", timeout=5).headers["ETag"]
    assert second.status == 304
    assert prices.price({"model": "veo2"}).usd == 1.95
    # Something moved: the ETag changes, the next read is a full one and its prices count.
    sim.listing.set_pricing("veo2", per_second(0.5))
    assert prices.refresh()
    assert list_requests(sim)[-1].status == 200
    assert prices.price({"model": "veo2", "duration": 5}).usd == 2.5


def test_a_restart_with_the_server_unreachable_uses_the_kept_copy_and_says_so(sim, data_dir):
    loaded(sim, data_dir, clock=lambda: NOV_28)
    (kept,) = (data_dir / "prices").iterdir()
    assert json.loads(kept.read_text())["etag"] and not list((data_dir / "prices").glob("*.tmp"))
    url = sim.url
    sim.stop()
    restarted = PriceList(url, data_dir, server=url, clock=lambda: DEC_01, timeout=(1, 1))
    assert restarted.label == "vendor price list of 2026-11-28"  # before it has tried the server
    assert not restarted.refresh()
    assert restarted.label == "vendor price list of 2026-11-28, could not be refreshed"
    assert restarted.price({"model": "veo2"}).explanation.endswith("vendor price list of 2026-11-28, could not be refreshed")


def test_a_304_moves_the_lists_date_on_and_clears_stale(sim, data_dir):
    today = [NOV_28]
    prices = loaded(sim, data_dir, clock=lambda: today[0])
    sim.faults.inject("models", Fault.http(503))
    assert not prices.refresh()
    today[0] = DEC_01
    assert prices.refresh() and list_requests(sim)[-1].status == 304
    assert prices.label == "vendor price list of 2026-12-01"
    restarted = prices_for(sim, data_dir)
    assert restarted.label == "vendor price list of 2026-12-01"  # the kept copy remembers it


def test_without_any_copy_nothing_is_priced_and_it_says_why(sim, data_dir):
    sim.faults.inject("models", Fault.http(503))
    prices = prices_for(sim, data_dir)
    assert prices.no_price_reason({"model": "veo2"}) == "no price known yet: the price list is loading"
    assert not prices.refresh()
    assert prices.label is None and prices.price({"model": "veo2"}) is None
    assert prices.no_price_reason({"model": "veo2"}) == "no price known: the price list could not be read"


def test_an_answer_over_the_size_cap_is_refused(sim, data_dir):
    prices = prices_for(sim, data_dir, max_bytes=1000)
    assert not prices.refresh()
    assert not prices.loaded
    assert not (data_dir / "prices").exists() or not list((data_dir / "prices").iterdir())


def test_an_unreadable_kept_copy_is_ignored(sim, data_dir):
    prices = loaded(sim, data_dir)
    prices.path.write_text('{"answer": "[not json", "checked_at": "soon"}')
    again = prices_for(sim, data_dir)
    assert not again.loaded
    assert again.refresh() and again.price({"model": "veo2"}).usd == 1.95


def test_the_daily_refresh_is_scheduled_and_a_failure_retried_sooner(sim, data_dir):
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 1:
            sim.faults.inject("models", Fault.http(503))
        return len(waits) == 3  # True: stop

    prices_for(sim, data_dir, wait=wait).run()
    assert waits == [REFRESH_SECONDS, RETRY_SECONDS, REFRESH_SECONDS]
    assert [r.status for r in list_requests(sim)] == [200, 503, 304]


def test_start_reads_in_the_background(sim, data_dir):
    prices = prices_for(sim, data_dir).start()
    try:
        assert prices.wait_loaded(20)
        assert prices.price({"model": "veo2"}) is not None
    finally:
        prices.stop()


# -- through the connection ------------------------------------------------------------


def test_the_connection_reads_prices_without_sending_the_key(sim, tmp_path):
    conn = connect(TEST_KEY, base_url=sim.url, data_dir=tmp_path / "data", typical_seconds=FAST_JOB_SECONDS)
    try:
        assert conn.prices.wait_loaded(20)
        assert conn.price({"model": "veo2", "duration": 5}).explanation.startswith("$1.95: 5 s × $0.39/s, vendor price list of ")
        conn.submit({"model": "veo2", "prompt": "A red fox trotting through fresh snow at dawn"})
    finally:
        conn.close()
    (listing,) = list_requests(sim)
    assert not any(name.lower() in ("authorization", "cookie") for name in listing.headers)
    assert all(TEST_KEY not in str(value) for value in listing.headers.values()) and TEST_KEY not in listing.path
    assert next(r for r in sim.requests if r.endpoint == "create").headers["Authorization"] == f"Bearer {TEST_KEY}"


def test_demo_mode_prices_from_its_own_simulator(tmp_path):
    conn = connect(None, base_url="https://api.aimlapi.com", data_dir=tmp_path / "data", demo_job_seconds=1)
    try:
        assert conn.prices.wait_loaded(20)
        assert conn.price({"model": "veo2"}).explanation.startswith("$1.95: 5 s × $0.39/s, demo price list of ")
        assert (tmp_path / "data" / "prices" / "demo.json").is_file()
    finally:
        conn.close()


# -- the Generate page ----------------------------------------------------------------


def price_caption(at) -> str:
    return next(c.value for c in at.caption if "payments" in c.value and "this history" in c.value).replace("\\", "")


def test_generate_shows_the_price_and_it_follows_the_duration(app, sim):
    at = run(app)
    assert price_caption(at).startswith(":material/payments: $1.95: 5 s × $0.39/s, vendor price list of ")
    assert "this history: no estimate yet" in price_caption(at)
    at.segmented_control(key="gen_duration").set_value(8)
    at = run(at)
    assert price_caption(at).startswith(":material/payments: $3.12: 8 s × $0.39/s, vendor price list of ")


def test_generate_says_plainly_when_no_price_is_known(app, sim):
    sim.listing.remove("veo2")
    at = run(app)
    assert price_caption(at).startswith(":material/payments: no price known for this model · this history:")
