"""Money as the API reports it, a budget that cannot be overrun, and creates the history could not record yet.

Everything here runs against the simulator over loopback HTTP, through `Connection.submit`, the one place a
generation is created.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.apptest import PROMPT, run, submit
from tests.helpers import FAST_JOB_SECONDS, TEST_KEY, wait_until
from videogen import history, spend
from videogen.api import NotSavedYetError, OutcomeUnknownError, RateLimitError, Status
from videogen.connection import connect
from videogen.simulator.faults import Fault, JobScript
from videogen.spend import Budget, OverBudgetError
from videogen.store import Store

VEO = {"model": "veo2", "prompt": "a lighthouse in a storm", "duration": 5}
CHARGE = 3_900_000  # the simulator's charge for a 5 s veo2 clip: $1.95, by the price list it publishes


def finished(conn, gen_id: str) -> Store:
    assert wait_until(lambda: (r := conn.store.get(gen_id)) is not None and r.status.is_final)
    return conn.store.get(gen_id)


def test_the_create_answers_cost_is_recorded_and_counts(sim, conn):
    record = conn.submit(VEO)
    assert (record.credits_held, record.credits_used) == (CHARGE, CHARGE)  # before any fetch
    assert conn.store.credits_spent(conn.server, conn.account) == CHARGE
    done = finished(conn, record.id)
    assert done.status is Status.COMPLETED and done.credits_used == CHARGE  # the fetch carried none: the hold stands
    assert history.export_rows([done])[0]["usd"] == pytest.approx(1.95)


def test_the_cost_in_the_create_answers_headers_is_recorded(sim, conn):
    sim.usage_on, sim.usage_headers = "none", True
    record = conn.submit(VEO)
    assert record.credits_used == CHARGE


def test_a_later_figure_from_a_fetch_replaces_the_hold(sim, conn):
    sim.usage_on = "both"
    record = conn.submit(VEO)
    sim.charge = lambda job: 99_000  # the charge recorded once it completed differs from the hold
    done = finished(conn, record.id)
    assert (done.credits_held, done.credits_used) == (CHARGE, 99_000)


def test_a_failed_generation_is_billed_nothing_and_its_card_says_so(sim, conn):
    from components.formatting import cost

    sim.faults.script(JobScript(error="Content policy: refused."))
    record = conn.submit(VEO)
    assert record.credits_used == CHARGE  # the hold, while it runs
    done = finished(conn, record.id)
    assert done.status is Status.FAILED and done.credits_used == 0 and done.credits_held == CHARGE
    assert conn.store.credits_spent(conn.server, conn.account) == 0
    assert cost(done) == "billed nothing (the hold of 3,900,000 credits ($1.95) was rolled back)"


def test_two_tabs_at_once_cannot_together_pass_a_budget(sim, conn):
    # Room for two at the assumed price, and eight tabs pressing Generate in the same instant.
    budget = Budget(limit=2.5 * CHARGE, unpriced_ceiling=CHARGE)
    barrier = threading.Barrier(8)

    def tab(i: int):
        barrier.wait()
        try:
            return conn.submit({**VEO, "seed": i}, budget=budget)
        except OverBudgetError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(tab, range(8)))
    assert sim.count("create") == 2
    assert sum(isinstance(o, OverBudgetError) for o in outcomes) == 6
    assert conn.store.credits_spent(conn.server, conn.account) == 2 * CHARGE


def unpriced(sim, conn) -> None:
    """The API reports no cost, the price list does not name veo2, and this history has no price for it."""
    sim.usage_on = "none"
    sim.listing.remove("veo2")
    assert conn.prices.refresh() and conn.price(VEO) is None


def test_with_a_budget_one_request_of_unknown_price_goes_at_a_time(sim, conn):
    unpriced(sim, conn)
    budget = Budget(limit=10 * CHARGE)
    first = conn.submit(VEO, budget=budget)
    with pytest.raises(OverBudgetError, match="another generation of unknown price is still running"):
        conn.submit({**VEO, "seed": 2}, budget=budget)
    assert sim.count("create") == 1
    finished(conn, first.id)
    conn.submit({**VEO, "seed": 3}, budget=budget)  # nothing unpriced is pending any more
    assert sim.count("create") == 2


def test_a_reserved_price_counts_until_the_api_reports_one(sim, conn):
    unpriced(sim, conn)
    record = conn.submit(VEO, budget=Budget(limit=10 * CHARGE, unpriced_ceiling=50_000))
    assert record.credits_used is None and record.reserved_credits == 50_000
    spending = conn.store.spending(conn.server, conn.account)
    assert (spending.reported, spending.reserved, spending.unpriced) == (0, 50_000, 0)


def test_deleting_a_row_never_lowers_what_was_spent(sim, conn):
    record = conn.submit(VEO)
    finished(conn, record.id)
    assert conn.store.delete(record.id)
    assert conn.store.get(record.id) is None
    assert conn.store.credits_spent(conn.server, conn.account) == CHARGE


def test_each_person_can_have_a_budget_of_their_own(sim, conn):
    budget = Budget(per_person=1.5 * CHARGE, unpriced_ceiling=CHARGE)
    conn.submit(VEO, owner="ana", budget=budget)
    with pytest.raises(OverBudgetError, match="your budget"):
        conn.submit({**VEO, "seed": 2}, owner="ana", budget=budget)
    conn.submit({**VEO, "seed": 3}, owner="ben", budget=budget)
    assert sim.count("create") == 2


def test_a_refused_create_frees_its_reservation_and_an_unknown_outcome_keeps_it(sim, conn):
    budget = Budget(limit=10 * CHARGE, unpriced_ceiling=CHARGE)
    sim.faults.inject("create", Fault.http(429, retry_after=1))
    with pytest.raises(RateLimitError):
        conn.submit(VEO, budget=budget)
    assert conn.store.credits_spent(conn.server, conn.account) == 0  # nothing was created, nothing is held
    sim.faults.inject("create", Fault.dropped())  # the job is created, the answer never comes
    with pytest.raises(OutcomeUnknownError):
        conn.submit(VEO, budget=budget)
    assert conn.store.spending(conn.server, conn.account).reserved == CHARGE  # the money may be spent


class LockedHistory:
    """Another process holds SQLite's write lock; the store gives up after a short wait instead of 30 s."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.db.busy_timeout = 0.2  # connections opened from now on (a batch's threads)
        with store.db.connect() as db:  # and this thread's, already open
            db.execute("PRAGMA busy_timeout = 200")
        self.holder = sqlite3.connect(store.path, isolation_level=None)
        self.holder.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.holder.execute("ROLLBACK")
        self.holder.close()


def test_a_create_the_history_cannot_record_is_journaled_and_saved_later(sim, conn):
    lock = LockedHistory(conn.store)
    with pytest.raises(NotSavedYetError) as unsaved:
        conn.submit(VEO)
    gen_id = unsaved.value.generation_id
    assert gen_id in sim.jobs and f"Created as {gen_id}, not yet saved" in unsaved.value.message
    assert conn.journal.has_entries()
    lock.release()
    # The poller's next sweep records it, cost included, and then polls it to the end.
    assert wait_until(lambda: conn.store.get(gen_id) is not None)
    assert conn.store.get(gen_id).credits_used == CHARGE
    assert finished(conn, gen_id).status is Status.COMPLETED
    assert not conn.journal.has_entries()
    assert sim.count("create") == 1


def test_a_restart_replays_what_the_journal_kept(sim, tmp_path):
    first = connect(TEST_KEY, base_url=sim.url, data_dir=tmp_path / "data", typical_seconds=FAST_JOB_SECONDS)
    first.poller.stop()  # a process that dies before any sweep could record it
    lock = LockedHistory(first.store)
    with pytest.raises(NotSavedYetError) as unsaved:
        first.submit(VEO)
    lock.release()
    first.close()
    again = connect(TEST_KEY, base_url=sim.url, data_dir=tmp_path / "data", typical_seconds=FAST_JOB_SECONDS)
    try:
        assert again.store.get(unsaved.value.generation_id) is not None  # recorded on start, before any sweep
    finally:
        again.close()


def test_in_a_batch_each_item_keeps_its_own_outcome_when_the_history_is_locked(sim, conn):
    sim.faults.inject("create", Fault.http(400, acted=False))  # one of them is refused outright
    lock = LockedHistory(conn.store)
    try:
        outcomes = conn.submit_batch([{**VEO, "seed": i} for i in range(3)], batch_id="b1")
    finally:
        lock.release()
    unsaved = [o for o in outcomes if isinstance(o, NotSavedYetError)]
    assert len(unsaved) == 2 and sum(o.__class__.__name__ == "InvalidRequestError" for o in outcomes) == 1
    assert wait_until(lambda: all(conn.store.get(o.generation_id) for o in unsaved))
    assert {r.batch_id for r in conn.store.batch("b1")} == {"b1"} and len(conn.store.batch("b1")) == 2


def test_the_page_says_created_but_not_saved_and_a_second_click_sends_nothing(app, sim, data_dir):
    at = run(app)
    lock = LockedHistory(Store(data_dir))
    try:
        at = submit(at, PROMPT)
        at = submit(at, PROMPT)  # the same request again at once: it exists and is paid for
    finally:
        lock.release()
    assert sim.count("create") == 1
    (job_id,) = sim.jobs
    assert any(f"Created as {job_id}, not yet saved" in w.value.replace("\\", "") for w in at.warning)


def test_dollars_are_shown_beside_credits():
    assert spend.money(3_900_000) == "3,900,000 credits ($1.95)"
    assert spend.money(7_200) == "7,200 credits ($0.0036)"
    assert spend.money(None) == "–"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_processes_reserving_at_once_never_pass_the_budget(backend, tmp_path, request):
    # Two stores on one database stand for two app processes: only the database's own locking orders them.
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    stores = [Store(tmp_path / "data", database_url=url) for _ in range(2)]
    budget = Budget(limit=5 * CHARGE)
    barrier = threading.Barrier(12)

    def reserve(i: int) -> bool:
        def check(key, person):
            time.sleep(0.02)  # widen the window between reading the spend and reserving, where a race would fall
            budget.check(CHARGE, key)

        barrier.wait()
        try:
            stores[i % 2].reserve("s", "acct", "", CHARGE, check)
        except OverBudgetError:
            return False
        return True

    with ThreadPoolExecutor(12) as pool:
        granted = sum(pool.map(reserve, range(12)))
    assert granted == 5
    assert stores[0].spending("s", "acct").reserved == 5 * CHARGE
    for store in stores:
        store.close()


def test_a_sweep_leaves_an_entry_to_the_submit_that_is_saving_it(sim, conn):
    # The create answered; its entry is on disk and its row about to be written by the submitting thread.
    from videogen.api import Answer
    from videogen.store import Entry

    entry = Entry.of(Answer("in-flight:veo2", Status.QUEUED), request=VEO, server=conn.server, account=conn.account, created_at=1.0)
    conn.journal.write(entry)
    assert not conn.journal.has_entries() and conn.journal.entries() == []  # not the sweep's to replay
    conn.journal.keep(entry.id)  # the store refused it: now it is
    assert [e.id for e in conn.journal.entries()] == ["in-flight:veo2"]
    assert [r.id for r in conn.journal.replay(conn.store)] == ["in-flight:veo2"]
    assert not conn.journal.has_entries()
