"""Versions and their lineage: parents recorded at submit, what changed, the tree, gaps; seeds always recorded."""

from __future__ import annotations

from videogen import lineage, seeds
from videogen.api import Answer, Status
from videogen.store import Store

FOX = "a red fox trotting through fresh snow at dawn"


def add(store: Store, gen_id: str, request: dict, *, parent: str | None = None, origin: dict | None = None, at: float = 0) -> str:
    store.add(Answer(gen_id, Status.QUEUED), request=request, server="sim", parent_id=parent, origin=origin, created_at=1_000 + at)
    return gen_id


def test_what_a_version_changed_is_read_from_the_two_requests():
    base = {"model": "veo2", "prompt": FOX, "seed": 1, "duration": 5}
    assert lineage.changes(base, dict(base)) == ["same request"]
    assert lineage.changes(base, {**base, "prompt": FOX + ", golden light", "seed": 2}) == ["edited prompt", "new seed"]
    assert lineage.changes(base, {**base, "model": "veo3", "duration": 8, "aspect_ratio": "9:16"}) == [
        "other model",
        "other aspect ratio",
        "other duration",
    ]


def test_a_new_prompt_typed_into_a_loaded_form_starts_its_own_tree(store):
    add(store, "a", {"model": "veo2", "prompt": FOX})
    assert lineage.parent_for(store, "a", {"model": "veo2", "prompt": FOX + " under a pale moon"}) == "a"
    assert lineage.parent_for(store, "a", {"model": "veo2", "prompt": "A lighthouse in a storm, waves on the rocks"}) is None
    assert lineage.parent_for(store, "gone", {"model": "veo2", "prompt": FOX}) is None
    assert lineage.parent_for(store, None, {"model": "veo2", "prompt": FOX}) is None


def test_the_tree_reads_top_down_with_each_version_under_its_parent_and_its_word_diff(store):
    add(store, "a", {"model": "veo2", "prompt": FOX, "seed": 1})
    add(store, "b", {"model": "veo2", "prompt": FOX + " in golden light", "seed": 1}, parent="a", at=1)
    add(store, "c", {"model": "veo2", "prompt": FOX + " in golden light", "seed": 7}, parent="b", at=2)
    add(store, "d", {"model": "veo3", "prompt": FOX, "seed": 1}, parent="a", at=3)
    add(store, "other", {"model": "veo2", "prompt": "unrelated"})

    for asked in ("a", "c", "d"):  # any member gives the whole family
        family = lineage.tree(store, asked)
        assert [(n.id, n.depth) for n in family.nodes] == [("a", 0), ("b", 1), ("c", 2), ("d", 1)]
    b, c, d = family.nodes[1:]
    assert b.changes == ("edited prompt",) and [(p.op, p.text) for p in b.diff if p.op != "same"] == [("added", " in golden light")]
    assert c.changes == ("new seed",) and c.diff == ()
    assert d.changes == ("other model",)
    assert lineage.tree(store, "nope") is None


def test_a_deleted_parent_leaves_a_gap_and_a_rewrite_diffs_against_the_persons_text(store):
    add(store, "a", {"model": "veo2", "prompt": FOX})
    origin = lineage.rewrite_origin(FOX, "gpt-4o-mini")
    add(store, "b", {"model": "veo2", "prompt": "Slow dolly shot: " + FOX}, parent="a", origin=origin, at=1)
    store.delete("a")
    family = lineage.tree(store, "b")
    gap, b = family.nodes
    assert gap.is_gap and gap.id == "a" and (b.id, b.depth) == ("b", 1)
    assert b.record.origin == origin and b.changes[0] == "rewritten by gpt-4o-mini"
    assert [p.text for p in b.diff if p.op == "added"] == ["Slow dolly shot: "]


def test_a_loop_in_parent_links_cannot_hang_the_tree(store):
    add(store, "a", {"model": "veo2", "prompt": FOX}, parent="b")
    add(store, "b", {"model": "veo2", "prompt": FOX}, parent="a", at=1)
    family = lineage.tree(store, "a")
    assert {n.id for n in family.nodes} <= {"a", "b"} and len(family) >= 1


def test_a_blank_seed_is_drawn_sent_and_recorded_and_an_explicit_one_kept(sim, conn):
    drawn = conn.submit({"model": "veo2", "prompt": FOX})
    seed = drawn.request["seed"]
    low, high = seeds.seed_range(seeds.seed_param("veo2"))
    assert isinstance(seed, int) and low <= seed <= high
    assert sim.jobs[drawn.id].body["seed"] == seed  # what the server was sent
    kept = conn.submit({"model": "veo2", "prompt": FOX, "seed": 0})
    assert kept.request["seed"] == 0 and sim.jobs[kept.id].body["seed"] == 0


def test_a_version_submitted_with_its_parent_and_origin_keeps_both(conn):
    first = conn.submit({"model": "veo2", "prompt": FOX})
    origin = lineage.rewrite_origin(FOX, "gpt-4o-mini", cost_usd=0.0004)
    second = conn.submit({"model": "veo2", "prompt": FOX + ", slow pan"}, parent_id=first.id, origin=origin)
    again = conn.store.get(second.id)
    assert again.parent_id == first.id and again.origin == origin
    assert [n.id for n in lineage.tree(conn.store, first.id).nodes] == [first.id, second.id]
