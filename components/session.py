"""This browser tab's state: every key the app keeps in `st.session_state`, read and changed only here.

The store is the truth; the session keeps what this tab did and what its widgets hold, never the only
copy of a generation. app.py calls `init()` before any page runs, so this tab's own state has its
starting values from the first run on; every reader below still copes with a key that is not there.

A widget owns the value under its `key=`. The constants at the end name the widget keys the app reads
or sets itself, and `value`, `assign`, `setdefault` and `forget` read or set a widget's value from outside
its own call: before it is drawn in a run, or in a callback. The form's fields are keyed per
parameter (`form_builder.key`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import streamlit as st

from videogen.api import ApiError
from videogen.double_submit import DoubleSubmitGuard

if TYPE_CHECKING:
    from components.judge_queue import JudgeQueue
    from components.prompt_improve import Proposal
    from components.variants_form import BatchDraft, BatchResult
    from videogen.store import Vote

# -- what this tab submitted --------------------------------------------------------------------
MY_GENERATIONS = "my_generations"  # ids this tab created, oldest first: the Generate page's cards
SEEN_PENDING = "seen_pending"  # ids running at the last look: each that finishes is announced once
DUPLICATE_GUARD = "duplicate_guard"  # a DuplicateGuard: the same request twice in a row is sent once
SUBMIT_PROBLEM = "submit_problem"  # why the last send came to nothing certain, shown until the next
CREATE_AUTH_PROBLEM = "create_auth_problem"  # the key's refusal at the last send, for the sidebar's banner
VARIANTS_DRAFT = "variants_draft"  # a batch waiting for its confirmation
VARIANTS_RESULT = "variants_result"  # what the last batch came to, until it is dismissed

# -- the Generate page --------------------------------------------------------------------------
FORM_NOTICE = "form_notice"  # one line above the form, shown once
FIELD_PROBLEMS = "field_problems"  # field -> why a value from the link was ignored, shown once beside it
OWN_VIDEO_LINKS = "gen_own_video_links"  # the links "use a finished generation" offered: the API's own
UPLOADS_CHECKED = "uploads_checked"  # (file id, rules) -> saved reference or refusal: each file checked once
UPLOAD_REFS_SUFFIX = "__ref"  # after a media field's key: the uploads saved for it
MODEL_LAST = "gen_model_last"  # the model the form showed on the previous run
MODEL_LINK = "gen_model_link"  # the ?model= value already acted on
LINK_MODEL_NOTICE = "link_model_notice"  # the link named a model that does not exist
CARDS_SHOWN = "cards_shown"  # how many cards the grid shows ("Show older" adds more)
GO_TO_GENERATE = "go_to_generate"  # a Re-run elsewhere: the next run opens Generate
RECALL = "gen_recall"  # (how far back recall is, -1 at the person's own text; that text)
FORM_PARENT = "gen_form_parent"  # the generation the form's values came from: what it sends next is its version
FORM_ORIGIN = "gen_form_origin"  # how the form's prompt was made beyond its parent (an accepted rewrite), for the next send
IMPROVE_ASKED = "gen_improve_asked"  # (the person's text, the model) when Improve prompt was pressed: asked once, after the form
IMPROVE = "gen_improve"  # the rewrite on show, or why there is none, until used or discarded
RESTORE_PROBLEM = "gen_restore_problem"  # why the video dropped on Restore refilled nothing, shown once

# -- History ------------------------------------------------------------------------------------
HISTORY_SELECTION = "hist_selection"  # the table's selected ids, kept while rows come and go
GALLERY_PAGE = "hist_gallery_page"  # which page of gallery tiles shows, from 0
PROMPT_LIST_PAGE = "hist_prompt_page"  # (which page of the Prompts list shows, from 0; the search it was turned for)
PAGE_POSTERS = "page_posters"  # player container key -> poster data URL, for this full run's players

# -- Compare's blind votes ----------------------------------------------------------------------
# A comparison is known by `blind_vote.comparison_key`: a digest of its set of ids, whatever their order.
BLIND_ORDERS = "compare_blind_orders"  # comparison -> its ids in the order shown (A, B, ...): shuffled once
BLIND_VOTES = "compare_blind_votes"  # comparison -> the Vote this tab recorded on it: one vote each
BLIND_REFUSAL = "compare_blind_refusal"  # why the last vote was not recorded, shown once
JUDGE_QUEUES = "compare_judge_queues"  # set of generations judged -> its JudgeQueue: the pairs, how far this tab got

# -- the key ------------------------------------------------------------------------------------
SESSION_API_KEY = "session_api_key"  # a key pasted in the sidebar: this tab's only, in memory only

# -- widget keys the app reads or sets itself ---------------------------------------------------
MODEL = "gen_model"
IMPROVE_TEXT = "gen_improve_text"  # the rewrite's text box: the person may edit it before using it
CHAT_MODEL = "gen_chat_model"  # the chat model Improve prompt asks
RESTORE_UPLOAD = "gen_restore_upload"  # Restore from a video's file drop
MODEL_KIND = "gen_model_kind"
VARIANTS_DIMENSION = "variants_dimension"
VARIANTS_PROMPTS = "variants_prompts"  # the Prompts sweep's text: starts from the form's prompt when first drawn
TEAM_VIEW = "team_view"  # the sidebar's switch: the whole team's generations, not only mine
BUDGET_USD = "budget_usd"  # the sidebar's budget for this session, in dollars
KEY_FIELD = "key_field"  # the sidebar's password field, emptied as soon as it is read
HISTORY_HIDE_REJECTED = "hist_hide_rejected"  # History's switch, on at first: rejected generations set aside
HISTORY_MIN_RATING = "hist_min_rating"  # History's least rating to show (1 to 5); None: any, unrated too
HISTORY_VIEW = "view"  # History's View choice, Gallery, Table or Prompts: bound to the ?view= query parameter, hence the name
GALLERY = "hist_gallery"  # the gallery's tiles: their keys and clicks arrive as its "action" trigger
COMPARE_BLIND = "compare_blind"  # Compare's Blind switch

ProblemKind = Literal["unknown", "unsaved", "warning", "error"]


class SubmitProblem(NamedTuple):
    """A send that created nothing certain. `body` is kept only where "Submit again" may resend it."""

    kind: ProblemKind  # unknown: it may have started; unsaved: created, not yet recorded
    message: str
    body: dict[str, Any] | None = None


def init() -> None:
    """This tab's own state at its start; a key already set keeps its value."""
    st.session_state.setdefault(MY_GENERATIONS, [])
    st.session_state.setdefault(SEEN_PENDING, set())
    st.session_state.setdefault(DUPLICATE_GUARD, DoubleSubmitGuard())
    st.session_state.setdefault(HISTORY_SELECTION, [])
    st.session_state[PAGE_POSTERS] = {}  # each full run lists its own players' posters


def recall_position() -> tuple[int, str]:
    return st.session_state.get(RECALL, (-1, ""))


def set_recall_position(at: int, own: str) -> None:
    st.session_state[RECALL] = (at, own)


def form_origin() -> dict[str, Any] | None:
    return st.session_state.get(FORM_ORIGIN)


def set_form_origin(origin: dict[str, Any] | None) -> None:
    st.session_state[FORM_ORIGIN] = origin


def set_improve_asked(text: str, model_id: str) -> None:
    st.session_state[IMPROVE_ASKED] = (text, model_id)


def take_improve_asked() -> tuple[str, str] | None:
    return st.session_state.pop(IMPROVE_ASKED, None)


def improve_proposal() -> Proposal | None:
    return st.session_state.get(IMPROVE)


def set_improve_proposal(proposal: Proposal | None) -> None:
    st.session_state[IMPROVE] = proposal


def set_restore_problem(text: str) -> None:
    st.session_state[RESTORE_PROBLEM] = text


def take_restore_problem() -> str | None:
    return st.session_state.pop(RESTORE_PROBLEM, None)


def form_parent() -> str | None:
    return st.session_state.get(FORM_PARENT)


def set_form_parent(generation_id: str | None) -> None:
    st.session_state[FORM_PARENT] = generation_id


def page_posters() -> dict[str, str]:
    return st.session_state.setdefault(PAGE_POSTERS, {})


# -- what this tab submitted --------------------------------------------------------------------


def my_generations() -> list[str]:
    return st.session_state.setdefault(MY_GENERATIONS, [])


def seen_pending() -> set[str]:
    """The set itself: what is added to it stays."""
    return st.session_state.setdefault(SEEN_PENDING, set())


def set_seen_pending(ids: set[str]) -> None:
    st.session_state[SEEN_PENDING] = ids


def remember_submitted(ids: Iterable[str]) -> None:
    """This tab created these: its cards show them, and each is announced when it finishes."""
    created = list(ids)
    my_generations().extend(created)
    seen_pending().update(created)


def duplicate_guard() -> DoubleSubmitGuard:
    return st.session_state.setdefault(DUPLICATE_GUARD, DoubleSubmitGuard())


def submit_problem() -> SubmitProblem | None:
    return st.session_state.get(SUBMIT_PROBLEM)


def set_submit_problem(problem: SubmitProblem) -> None:
    st.session_state[SUBMIT_PROBLEM] = problem


def clear_submit_problem() -> None:
    st.session_state.pop(SUBMIT_PROBLEM, None)


def auth_problem() -> ApiError | None:
    return st.session_state.get(CREATE_AUTH_PROBLEM)


def set_auth_problem(problem: ApiError) -> None:
    st.session_state[CREATE_AUTH_PROBLEM] = problem


def clear_auth_problem() -> None:
    st.session_state.pop(CREATE_AUTH_PROBLEM, None)


def variants_draft() -> BatchDraft | None:
    return st.session_state.get(VARIANTS_DRAFT)


def set_variants_draft(draft: BatchDraft) -> None:
    st.session_state[VARIANTS_DRAFT] = draft


def take_variants_draft() -> BatchDraft | None:
    """The waiting batch, no longer waiting: whoever takes it is the only one to send it."""
    return st.session_state.pop(VARIANTS_DRAFT, None)


def variants_result() -> BatchResult | None:
    return st.session_state.get(VARIANTS_RESULT)


def set_variants_result(result: BatchResult) -> None:
    st.session_state[VARIANTS_RESULT] = result


def clear_variants_result() -> None:
    st.session_state.pop(VARIANTS_RESULT, None)


# -- the Generate page --------------------------------------------------------------------------


def set_form_notice(text: str) -> None:
    st.session_state[FORM_NOTICE] = text


def take_form_notice() -> str | None:
    return st.session_state.pop(FORM_NOTICE, None)


def set_field_problems(problems: dict[str, str]) -> None:
    st.session_state[FIELD_PROBLEMS] = problems


def take_field_problems() -> dict[str, str]:
    return st.session_state.pop(FIELD_PROBLEMS, {})


def set_own_video_links(links: set[str]) -> None:
    st.session_state[OWN_VIDEO_LINKS] = links


def own_video_links() -> Collection[str]:
    return st.session_state.get(OWN_VIDEO_LINKS, ())


def uploads_checked() -> dict[tuple, str]:
    return st.session_state.setdefault(UPLOADS_CHECKED, {})


def upload_refs(field_key: str) -> list[str] | None:
    return st.session_state.get(field_key + UPLOAD_REFS_SUFFIX)


def set_upload_refs(field_key: str, refs: list[str] | None) -> None:
    st.session_state[field_key + UPLOAD_REFS_SUFFIX] = refs


def forget_upload_refs(field_key: str) -> None:
    st.session_state.pop(field_key + UPLOAD_REFS_SUFFIX, None)


def last_model() -> str | None:
    return st.session_state.get(MODEL_LAST)


def set_last_model(model_id: str) -> None:
    st.session_state[MODEL_LAST] = model_id


def model_link() -> str | None:
    return st.session_state.get(MODEL_LINK)


def set_model_link(value: str | None) -> None:
    st.session_state[MODEL_LINK] = value


def set_link_model_notice(text: str) -> None:
    st.session_state[LINK_MODEL_NOTICE] = text


def take_link_model_notice() -> str | None:
    return st.session_state.pop(LINK_MODEL_NOTICE, None)


def cards_shown(first: int) -> int:
    """How many cards to show; `first` until "Show older" has been pressed."""
    return st.session_state.get(CARDS_SHOWN, first)


def set_cards_shown(count: int) -> None:
    st.session_state[CARDS_SHOWN] = count


def ask_for_generate() -> None:
    st.session_state[GO_TO_GENERATE] = True


def take_go_to_generate() -> bool:
    return bool(st.session_state.pop(GO_TO_GENERATE, False))


# -- History ------------------------------------------------------------------------------------


def history_selection() -> list[str]:
    return st.session_state.get(HISTORY_SELECTION, [])


def set_history_selection(ids: list[str]) -> None:
    st.session_state[HISTORY_SELECTION] = ids


def gallery_page() -> int:
    return st.session_state.get(GALLERY_PAGE, 0)


def set_gallery_page(page: int) -> None:
    st.session_state[GALLERY_PAGE] = page


def prompt_list_page(search: str) -> int:
    """The Prompts page turned to for `search`; a new search starts again at the first."""
    page, turned_for = st.session_state.get(PROMPT_LIST_PAGE, (0, ""))
    return page if turned_for == search else 0


def set_prompt_list_page(page: int, search: str) -> None:
    st.session_state[PROMPT_LIST_PAGE] = (page, search)


# -- Compare's blind votes ----------------------------------------------------------------------


def blind_order(comparison: str) -> list[str] | None:
    return st.session_state.get(BLIND_ORDERS, {}).get(comparison)


def set_blind_order(comparison: str, ids: list[str]) -> None:
    st.session_state.setdefault(BLIND_ORDERS, {})[comparison] = ids


def blind_vote(comparison: str) -> Vote | None:
    return st.session_state.get(BLIND_VOTES, {}).get(comparison)


def set_blind_vote(comparison: str, vote: Vote) -> None:
    st.session_state.setdefault(BLIND_VOTES, {})[comparison] = vote


def set_blind_refusal(text: str) -> None:
    st.session_state[BLIND_REFUSAL] = text


def take_blind_refusal() -> str | None:
    return st.session_state.pop(BLIND_REFUSAL, None)


def judge_queue(judged: str) -> JudgeQueue | None:
    return st.session_state.get(JUDGE_QUEUES, {}).get(judged)


def set_judge_queue(judged: str, queue: JudgeQueue) -> None:
    st.session_state.setdefault(JUDGE_QUEUES, {})[judged] = queue


# -- the key ------------------------------------------------------------------------------------


def session_api_key() -> str | None:
    return st.session_state.get(SESSION_API_KEY)


def set_session_api_key(key: str) -> None:
    st.session_state[SESSION_API_KEY] = key


def forget_session_api_key() -> None:
    st.session_state.pop(SESSION_API_KEY, None)


def take_key_field() -> str:
    """What was pasted in the key field, which is emptied: the page no longer holds the key."""
    key = st.session_state.get(KEY_FIELD, "").strip()
    st.session_state[KEY_FIELD] = ""
    return key


# -- widgets ------------------------------------------------------------------------------------


def team_view() -> bool:
    return bool(st.session_state.get(TEAM_VIEW))


def compare_blind() -> bool:
    return bool(st.session_state.get(COMPARE_BLIND))


def budget_usd() -> float | None:
    """The sidebar's budget in dollars; None (or 0) when none is set."""
    return st.session_state.get(BUDGET_USD)


def value(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def assign(key: str, new: Any) -> None:
    st.session_state[key] = new


def setdefault(key: str, default: Any) -> Any:
    return st.session_state.setdefault(key, default)


def forget(key: str) -> None:
    st.session_state.pop(key, None)
