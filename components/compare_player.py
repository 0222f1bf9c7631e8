"""One set of controls for every video on the Compare page: play, pause, seek, frame step, speed, loop.

The videos are ordinary `st.video` elements (Streamlit serves their files);
this component finds them by the key of the container that holds them and
drives them from the page. The longest clip leads. On each animation frame,
a follower that has drifted is nudged back by a slightly faster or slower
playback rate, and seeked outright if it is far off, so the clips stay within
a frame of each other without the stutter that seeking every frame would
cause. A shorter clip holds its last frame until the leader loops.

Sync is measured in Chromium by tests/e2e/test_compare.py through each video's
`currentTime`.
"""

from __future__ import annotations

import streamlit as st

HTML = """
<div class="bar" role="group" aria-label="Playback of all videos">
  <button type="button" data-play aria-label="Play all">▶ Play</button>
  <button type="button" data-step="-1" aria-label="Previous frame" title="Previous frame">‹ 1 frame</button>
  <button type="button" data-step="1" aria-label="Next frame" title="Next frame">1 frame ›</button>
  <input type="range" data-seek aria-label="Position" min="0" max="1000" value="0" step="1">
  <span data-time class="time">0:00.00 / 0:00.00</span>
  <label>Speed
    <select data-speed aria-label="Speed">
      <option value="0.25">0.25×</option><option value="0.5">0.5×</option>
      <option value="1" selected>1×</option><option value="1.5">1.5×</option><option value="2">2×</option>
    </select>
  </label>
  <label><input type="checkbox" data-loop aria-label="Loop" checked> Loop</label>
</div>
"""

CSS = """
.bar { display: flex; align-items: center; gap: .6rem; flex-wrap: wrap; padding: .5rem .75rem;
       border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2)); border-radius: .5rem;
       font-family: var(--st-font, sans-serif); font-size: .9rem; color: var(--st-text-color, inherit); }
button, select { font: inherit; color: inherit; background: var(--st-secondary-background-color, #f0f2f6);
                 border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2)); border-radius: .4rem;
                 padding: .25rem .7rem; cursor: pointer; }
button[data-play] { min-width: 6.5rem; font-weight: 600; background: var(--st-primary-color, #ff4b4b); color: #fff;
                    border-color: transparent; }
input[type=range] { flex: 1 1 12rem; accent-color: var(--st-primary-color, #ff4b4b); }
.time { font-variant-numeric: tabular-nums; min-width: 9.5rem; }
label { display: inline-flex; align-items: center; gap: .3rem; }
"""

JS = """
export default function ({ parentElement, data }) {
  const q = (selector) => parentElement.querySelector(selector);
  const playButton = q("[data-play]"), seek = q("[data-seek]"), clock = q("[data-time]");
  const speed = q("[data-speed]"), loop = q("[data-loop]");
  const frame = 1 / data.fps;
  let playing = false, frameRequest = 0, seeking = false;

  // Streamlit may redraw its video elements: look them up every time instead of keeping them.
  const videos = () => [...document.querySelectorAll(`.st-key-${data.scope} video`)];
  const longest = (vs) => vs.reduce((a, b) => ((b.duration || 0) > (a.duration || 0) ? b : a));
  const end = (vs) => Math.max(0, ...vs.map((v) => v.duration || 0));
  const format = (t) => `${Math.floor(t / 60)}:${(t % 60).toFixed(2).padStart(5, "0")}`;

  function quiet(vs) {
    // Only these controls drive the clips; one sound track at a time.
    vs.forEach((v, i) => { v.controls = false; v.loop = false; v.muted = i > 0; v.playsInline = true; });
  }

  function show(vs) {
    const total = end(vs), t = vs.length ? longest(vs).currentTime : 0;
    if (!seeking && total) seek.value = String(Math.round((t / total) * 1000));
    clock.textContent = `${format(t)} / ${format(total)}`;
    playButton.textContent = playing ? "❚❚ Pause" : "▶ Play";
    playButton.setAttribute("aria-label", playing ? "Pause all" : "Play all");
  }

  function place(t) {
    const vs = videos();
    quiet(vs);
    vs.forEach((v) => { v.currentTime = Math.min(t, Math.max(0, (v.duration || 0) - frame / 2)); });
    show(vs);
  }

  function follow() {
    const vs = videos();
    if (!vs.length) { frameRequest = requestAnimationFrame(follow); return; }
    const lead = longest(vs), t = lead.currentTime, rate = Number(speed.value);
    for (const v of vs) {
      if (v === lead) { v.playbackRate = rate; continue; }
      if (t >= (v.duration || 0) - frame) { if (!v.paused) v.pause(); continue; }
      if (v.paused && playing) v.play().catch(() => {});
      const drift = v.currentTime - t;
      if (Math.abs(drift) > 0.25) v.currentTime = t;
      else v.playbackRate = rate * (1 - Math.max(-0.1, Math.min(0.1, drift * 2)));
    }
    if (lead.ended || (lead.paused && playing && t >= lead.duration - frame / 2)) {
      if (loop.checked) { place(0); start(); return; }
      stop();
    }
    show(vs);
    if (playing) frameRequest = requestAnimationFrame(follow);
  }

  async function start() {
    const vs = videos();
    if (!vs.length) return;
    quiet(vs);
    const t = longest(vs).currentTime;
    if (t >= end(vs) - frame / 2) place(0);
    else vs.forEach((v) => { if (t < (v.duration || 0)) v.currentTime = t; });
    playing = true;
    await Promise.all(vs.map((v) => (v.currentTime < (v.duration || 0) - frame ? v.play() : null)).map((p) => p && p.catch(() => {})));
    cancelAnimationFrame(frameRequest);
    frameRequest = requestAnimationFrame(follow);
  }

  function stop() {
    playing = false;
    cancelAnimationFrame(frameRequest);
    const vs = videos();
    vs.forEach((v) => v.pause());
    if (vs.length) place(longest(vs).currentTime);
  }

  playButton.onclick = () => (playing ? stop() : start());
  parentElement.querySelectorAll("[data-step]").forEach((b) => {
    b.onclick = () => {
      if (playing) stop();
      const vs = videos();
      if (vs.length) place(Math.max(0, Math.min(end(vs), longest(vs).currentTime + Number(b.dataset.step) * frame)));
    };
  });
  seek.oninput = () => { seeking = true; const vs = videos(); place((Number(seek.value) / 1000) * end(vs)); };
  seek.onchange = () => { seeking = false; };
  speed.onchange = () => videos().forEach((v) => { v.playbackRate = Number(speed.value); });

  // Show durations once the clips have loaded their metadata (they may mount after this component).
  const waiting = setInterval(() => { const vs = videos(); quiet(vs); show(vs); }, 500);
  return () => { clearInterval(waiting); cancelAnimationFrame(frameRequest); stop(); };
}
"""

_component = st.components.v2.component("videogen.compare_player", html=HTML, css=CSS, js=JS)


def player(scope: str, *, fps: float) -> None:
    """The controls, for the videos inside the container keyed `scope`."""
    _component(data={"scope": scope, "fps": fps}, key=f"player-{scope}")
