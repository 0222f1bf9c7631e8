"""The gallery's grid of tiles, drawn in the browser from data, with its hover scrub and its keys.

One custom component draws the whole page of tiles, so 48 posters cost one element
and one message, not 48 widgets. Each tile shows its poster at the clip's aspect
ratio, status, model (and who made it, in the team's view), duration, rating and star; running
tiles tick their elapsed and remaining time in the browser; moving the mouse across it steps
through its filmstrip. Everything from people or servers (prompts, models,
reasons) is set as text, never as markup.

The keys are read on the whole document, except where a person types: a text
field, a select, anything editable, or any key with Ctrl, Meta or Alt, is left
alone. Moving the focus ring, the key help and a tile's scrub happen in the
browser; everything that changes the history is sent to Python as one trigger,
`{"key": ..., "id": ..., "value": ...}`, which checks it before applying it
(`components.gallery`). While a generation is open below the grid (the detail),
the keys act on it: J/K open the next or previous one and Space plays its video.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from videogen.posters import STRIP_FRAMES

#: What each key does, for the help overlay and the README (the JS below reads the keys themselves).
KEYS = [
    ("J / →", "next"),
    ("K / ←", "previous"),
    ("↑ / ↓", "row above / below"),
    ("Enter", "open"),
    ("Esc", "close"),
    ("Space", "play or pause"),
    ("1 – 5", "rate"),
    ("X", "reject"),
    ("S", "star"),
    ("C", "add to Compare"),
    ("R", "re-run"),
    ("?", "these keys"),
]

HTML = """
<div class="bar"><button type="button" class="keys" data-help aria-label="Keyboard shortcuts">⌨ Keys <kbd>?</kbd></button></div>
<div class="grid" role="listbox" aria-label="Generations"></div>
<div class="help" role="dialog" aria-label="Keyboard shortcuts" hidden>
  <div class="panel"><h3>Keyboard</h3><dl></dl><p>Keys typed in a text field stay text. Esc or ? closes this.</p></div>
</div>
"""

CSS = """
:host { display: block; }
* { box-sizing: border-box; }
.bar { display: flex; justify-content: flex-end; margin: 0 0 .4rem; }
button { font: inherit; color: inherit; cursor: pointer; }
.keys { font-size: .8rem; padding: .15rem .55rem; border-radius: .4rem;
        border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2));
        background: var(--st-secondary-background-color, #f0f2f6); }
kbd { font-family: var(--st-code-font, monospace); font-size: .75rem; padding: 0 .3rem; border-radius: .25rem;
      border: 1px solid var(--st-border-color, rgba(49, 51, 63, .3)); background: var(--st-background-color, #fff); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: .75rem; align-items: start;
        font-family: var(--st-font, sans-serif); font-size: .85rem; color: var(--st-text-color, #31333f); }
.tile { border-radius: .6rem; overflow: hidden; cursor: pointer; outline: none;
        border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2)); background: var(--st-secondary-background-color, #f0f2f6); }
.tile.focused { box-shadow: 0 0 0 3px var(--st-primary-color, #ff4b4b); }
.tile.open { border-color: var(--st-primary-color, #ff4b4b); }
.tile.rejected .media { opacity: .45; }
.media { position: relative; width: 100%; background: #3a3c42 center / cover no-repeat; overflow: hidden; }
.media.portrait { width: 62%; margin: 0 auto; }
.media img { display: block; width: 100%; height: 100%; object-fit: cover; }
.scrub { position: absolute; inset: 0; background-repeat: no-repeat; visibility: hidden; }
.media.scrubbing .scrub { visibility: visible; }
.badge { position: absolute; left: .4rem; top: .4rem; padding: .05rem .45rem; border-radius: .8rem; font-size: .72rem;
         font-weight: 600; color: #fff; background: rgba(20, 20, 24, .7); }
.badge.green { background: #177233; } .badge.blue { background: #1c5fb8; } .badge.red { background: #b3261e; }
.badge.orange { background: #a65400; } .badge.gray { background: #5b5e66; }
.star { position: absolute; right: .3rem; top: .25rem; border: 0; background: none; font-size: 1.15rem; line-height: 1;
        color: #fff; text-shadow: 0 0 3px rgba(0, 0, 0, .8); padding: .1rem .2rem; }
.star.on { color: #ffc107; }
.note { position: absolute; left: 0; right: 0; bottom: 0; padding: .35rem .5rem; font-size: .75rem; line-height: 1.25;
        color: #fff; background: rgba(20, 20, 24, .72); max-height: 70%; overflow: hidden; }
.meta { display: flex; align-items: center; gap: .35rem; padding: .35rem .5rem 0; }
.meta input { margin: 0; accent-color: var(--st-primary-color, #ff4b4b); cursor: pointer; }
.maker { font-size: .75rem; opacity: .7; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 40%; }
.model { flex: 1; min-width: 0; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.facts { display: flex; align-items: center; gap: .45rem; padding: .1rem .5rem .4rem; color: rgba(49, 51, 63, .75);
         color: color-mix(in srgb, var(--st-text-color, #31333f) 70%, transparent); font-size: .78rem; }
.stars { letter-spacing: .05rem; color: #e0a800; }
.stars.none { color: inherit; opacity: .6; letter-spacing: normal; }
.tag { padding: 0 .35rem; border-radius: .3rem; background: #b3261e; color: #fff; font-size: .7rem; }
.help { position: fixed; inset: 0; z-index: 1000; display: flex; align-items: center; justify-content: center;
        background: rgba(0, 0, 0, .35); font-family: var(--st-font, sans-serif); }
.help[hidden] { display: none; }
.panel { min-width: 20rem; padding: 1rem 1.4rem; border-radius: .7rem; color: var(--st-text-color, #31333f);
         border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2));
         background: var(--st-background-color, #fff); box-shadow: 0 10px 40px rgba(0, 0, 0, .3); }
.panel h3 { margin: 0 0 .6rem; font-size: 1.05rem; }
.panel dl { display: grid; grid-template-columns: auto 1fr; gap: .35rem 1rem; margin: 0; }
.panel dt { font-family: var(--st-code-font, monospace); font-weight: 600; white-space: nowrap; }
.panel dd { margin: 0; }
.panel p { margin: .8rem 0 0; font-size: .78rem; opacity: .75; }
"""

JS = """
export default function ({ parentElement, data, setTriggerValue }) {
  const grid = parentElement.querySelector(".grid"), help = parentElement.querySelector(".help");
  const tiles = data.tiles, FRAMES = data.frames;
  // The strips arrive in their own element after this one (STRIPS_JS below), by tile id.
  const stripOf = (t) => (window.__videogenStrips || {})[t.id];
  // Kept on the page across reruns (this function runs again with each run's data): the focus and the help.
  const memory = (window.__videogenGallery ??= { focus: null, help: false, opened: null, scrollTo: null, sent: 0 });
  const index = new Map(tiles.map((t, i) => [t.id, i]));
  if (data.open && data.open !== memory.opened && index.has(data.open)) memory.focus = data.open;
  memory.opened = data.open;
  let focus = index.has(memory.focus) ? index.get(memory.focus) : -1;
  let playing = null, playTimer = 0;

  const send = (key, id, value) => { memory.sent += 1; setTriggerValue("action", { key, id, value, n: memory.sent }); };
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;  // text only: prompts and reasons come from people and servers
    return e;
  };

  function draw(t, i) {
    const tile = el("div", "tile" + (t.rejected ? " rejected" : "") + (t.id === data.open ? " open" : ""));
    tile.dataset.id = t.id;
    tile.setAttribute("role", "option");
    tile.setAttribute("aria-selected", String(t.selected));
    tile.title = t.prompt;
    const media = el("div", "media" + (t.portrait ? " portrait" : ""));
    media.style.aspectRatio = t.ratio;
    const img = el("img", "poster");
    img.alt = t.prompt; img.src = t.poster; img.decoding = "async";
    if (i >= 12) img.loading = "lazy";  // below the first screenful
    const scrub = el("div", "scrub");
    media.append(img, scrub, el("span", "badge " + t.color, t.status));
    const star = el("button", "star" + (t.starred ? " on" : ""), t.starred ? "★" : "☆");
    star.type = "button";
    star.setAttribute("aria-label", t.starred ? "Starred" : "Star");
    star.onclick = (e) => { e.stopPropagation(); send("star", t.id, !t.starred); };
    if (t.status_key === "completed") media.append(star);
    if (t.note) {
      const note = el("div", "note", t.note);
      media.append(note);
      if (t.clock) clocks.push([note, t.clock]);
    }
    const meta = el("div", "meta");
    const pick = el("input");
    pick.type = "checkbox"; pick.checked = t.selected;
    pick.setAttribute("aria-label", "Select for Compare or a demo reel");
    pick.onclick = (e) => { e.stopPropagation(); send("select", t.id, pick.checked); };
    meta.append(pick, el("span", "model", t.model));
    if (t.maker) meta.append(el("span", "maker", t.maker));
    const facts = el("div", "facts");
    if (t.duration) facts.append(el("span", "", t.duration));
    if (t.status_key === "completed")
      facts.append(t.rating ? el("span", "stars", "★".repeat(t.rating) + "☆".repeat(5 - t.rating)) : el("span", "stars none", "unrated"));
    if (t.rejected) facts.append(el("span", "tag", "Rejected"));
    tile.append(media, meta, facts);

    // The strip is a row of FRAMES frames: the mouse's x picks one.
    const show = (k) => {
      const strip = stripOf(t);
      if (!strip) return;  // still on its way: the poster stays
      scrub.style.backgroundImage = `url("${strip}")`;
      scrub.style.backgroundSize = `${FRAMES * 100}% 100%`;
      scrub.style.backgroundPosition = `${(k / (FRAMES - 1)) * 100}% 0`;
      media.classList.add("scrubbing");
    };
    if (t.has_strip) {
      media.onmousemove = (e) => {
        const box = media.getBoundingClientRect();
        show(Math.max(0, Math.min(FRAMES - 1, Math.floor(((e.clientX - box.left) / box.width) * FRAMES))));
      };
      media.onmouseleave = () => { if (playing !== i) media.classList.remove("scrubbing"); };
    }
    tile.show = show;
    tile.onclick = () => { moveTo(i); memory.scrollTo = t.id; send("open", t.id); };
    return tile;
  }

  // Running tiles tick in the browser, as the cards do with a page run: elapsed and time left, every second.
  const clocks = [];
  const secs = (v) => {
    v = Math.max(0, Math.round(v));
    const m = Math.floor(v / 60), s = v % 60;
    return m ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
  };
  const tick = () => {
    const now = Date.now() / 1000;
    for (const [node, c] of clocks) {
      const left = c.ends - now;
      const rest = c.waiting ? "waiting on the server" : left > 0 ? `about ${secs(left)} left` : "taking longer than usual";
      node.textContent = `${secs(now - c.started)} elapsed · ${rest}`;
    }
  };
  grid.replaceChildren(...tiles.map(draw));
  const ticking = clocks.length ? setInterval(tick, 1000) : 0;
  const nodes = () => [...grid.children];

  function moveTo(i, scroll) {
    const all = nodes();
    if (!all.length) return;
    focus = Math.max(0, Math.min(all.length - 1, i));
    memory.focus = tiles[focus].id;
    all.forEach((n, j) => n.classList.toggle("focused", j === focus));
    if (scroll) all[focus].scrollIntoView({ block: "nearest" });
  }
  if (focus >= 0) moveTo(focus);

  function columns() {
    const all = nodes();
    if (!all.length) return 1;
    const top = all[0].offsetTop;
    return Math.max(1, all.filter((n) => n.offsetTop === top).length);
  }

  function togglePlay() {
    if (data.open) {  // the detail's video
      const video = document.querySelector(".st-key-history-detail video");
      if (video) { if (video.paused) video.play().catch(() => {}); else video.pause(); }
      return;
    }
    const t = tiles[focus], node = nodes()[focus];
    clearInterval(playTimer);
    if (playing === focus || !t || !t.has_strip) {
      if (node) node.querySelector(".media").classList.remove("scrubbing");
      playing = null;
      return;
    }
    nodes().forEach((n) => n.querySelector(".media").classList.remove("scrubbing"));
    playing = focus;
    let k = 0;
    node.show(k);
    playTimer = setInterval(() => { k = (k + 1) % FRAMES; node.show(k); }, 250);
  }

  const dl = help.querySelector("dl");
  dl.replaceChildren(...data.keys.flatMap(([key, what]) => [el("dt", "", key), el("dd", "", what)]));
  const showHelp = (on) => { memory.help = on; help.hidden = !on; };
  showHelp(memory.help);
  parentElement.querySelector("[data-help]").onclick = () => showHelp(!memory.help);
  help.onclick = (e) => { if (e.target === help) showHelp(false); };

  // Keys belong to whatever a person is typing in: text fields, selects, editable text, widgets with their own keys.
  const OWN_KEYS = new Set(["textbox", "combobox", "searchbox", "slider", "spinbutton", "listbox", "option", "menu", "menuitem"]);
  function typing(e) {
    const target = e.composedPath()[0] || e.target;
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    const tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type)) return true;
    return OWN_KEYS.has(target.getAttribute("role")) && !grid.contains(target);
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(e)) return;
    if (document.querySelector("[role=dialog]:not(.help)") && !memory.help) return;  // a Streamlit dialog is open
    const key = e.key, current = data.open ?? (focus >= 0 ? tiles[focus].id : null);
    const step = (by) => {
      const from = data.open && index.has(data.open) ? index.get(data.open) : focus < 0 ? (by > 0 ? -1 : tiles.length) : focus;
      const to = Math.max(0, Math.min(tiles.length - 1, from + by));
      moveTo(to, true);
      if (data.open && tiles[to].id !== data.open) send("open", tiles[to].id);
    };
    let handled = true;
    if (key === "?") showHelp(!memory.help);
    else if (key === "Escape") { if (memory.help) showHelp(false); else if (data.open) send("close", data.open); else handled = false; }
    else if (memory.help) handled = false;
    else if (key === "j" || key === "J" || key === "ArrowRight") step(1);
    else if (key === "k" || key === "K" || key === "ArrowLeft") step(-1);
    else if (key === "ArrowDown") step(columns());
    else if (key === "ArrowUp") step(-columns());
    else if (key === " ") togglePlay();
    else if (!current) handled = false;
    else if (key === "Enter") { if (!data.open) { memory.scrollTo = current; send("open", current); } }
    else if (/^[1-5]$/.test(key)) send("rate", current, Number(key));
    else if (key === "x" || key === "X") send("reject", current, !tiles[index.get(current)]?.rejected);
    else if (key === "s" || key === "S") send("star", current, !tiles[index.get(current)]?.starred);
    else if (key === "c" || key === "C") send("select", current, !tiles[index.get(current)]?.selected);
    else if (key === "r" || key === "R") send("rerun", current);
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }
  // Streamlit calls this function again with each run's data, not always after the last call's cleanup:
  // one listener on the document at a time, or a key would act twice.
  if (memory.onKey) document.removeEventListener("keydown", memory.onKey, true);
  memory.onKey = onKey;
  document.addEventListener("keydown", onKey, true);

  // A click or Enter opened a generation: bring its detail, drawn below the grid, into view once it is there.
  let tries = 0, waiting = 0;
  if (data.open && memory.scrollTo === data.open) {
    waiting = setInterval(() => {
      const detail = document.querySelector(".st-key-history-detail");
      if (detail || ++tries > 40) { clearInterval(waiting); memory.scrollTo = null; if (detail) detail.scrollIntoView({ block: "start" }); }
    }, 50);
  }
  return () => {
    document.removeEventListener("keydown", onKey, true);
    if (memory.onKey === onKey) memory.onKey = null;
    clearInterval(playTimer);
    clearInterval(waiting);
    clearInterval(ticking);
  };
}
"""

# The filmstrips come in an element of their own, after the tiles: they are two thirds of a page's image bytes
# and are needed only on a hover, so the posters paint without waiting for them. This one draws nothing; it
# hands its strips to the tiles through the page's window, and tells them they are there.
STRIPS_JS = """
export default function ({ data }) {
  const kept = (window.__videogenStrips = window.__videogenStrips || {});
  Object.assign(kept, data.strips || {});
  window.dispatchEvent(new CustomEvent("videogen-strips"));
}
"""

_component = st.components.v2.component("videogen.gallery_tiles", html=HTML, css=CSS, js=JS)
_strips = st.components.v2.component("videogen.gallery_strips", html="", css=":host { display: none; }", js=STRIPS_JS)


def tiles(tiles_data: list[dict[str, Any]], *, open_id: str | None, key: str, on_action: Callable[[], None]) -> None:
    """Draw `tiles_data` (`components.gallery` builds it); `on_action` runs, before the next run, for each trigger."""
    strips = {t["id"]: t["strip"] for t in tiles_data if t.get("strip")}
    shown = [{**{k: v for k, v in t.items() if k != "strip"}, "has_strip": t["id"] in strips} for t in tiles_data]
    _component(
        data={"tiles": shown, "open": open_id, "frames": STRIP_FRAMES, "keys": KEYS},
        key=key,
        on_action_change=on_action,
    )
    _strips(data={"strips": strips}, key=f"{key}-strips")
