// The sequence editor: reorder (drag, or Alt+↑/↓), trim with a frame preview, the total
// duration, and a preview that plays the clips in order with their trims and crossfades.
const list = document.getElementById("clip-list");
const form = document.getElementById("sequence-form");
const field = document.getElementById("clips-json");
const total = document.getElementById("total-duration");
const preview = document.getElementById("edit-preview");
const playButton = document.getElementById("play-edit");
const now = document.getElementById("preview-now");

const clips = () => [...list.querySelectorAll("li.clip")];
const number = (input, fallback) => {
  const value = parseFloat(input.value);
  return Number.isFinite(value) ? value : fallback;
};

const read = (item) => {
  const duration = Number(item.dataset.duration) || 0;
  const inPoint = Math.max(0, number(item.querySelector(".clip-in"), 0));
  const outPoint = Math.min(duration || Infinity, number(item.querySelector(".clip-out"), duration));
  return {
    generation: Number(item.dataset.generation),
    in: inPoint,
    // Out at the clip's end is sent as "to the end": the export then sees a seamless join.
    out: duration && outPoint >= duration ? null : outPoint,
    transition: item.querySelector(".clip-transition").value,
    crossfade_seconds: number(item.querySelector(".clip-fade"), 0),
    end: outPoint,
    video: item.dataset.video,
  };
};

const update = () => {
  const rows = clips().map(read);
  let seconds = 0;
  rows.forEach((row, index) => {
    seconds += Math.max(0, row.end - row.in);
    if (index < rows.length - 1 && row.transition === "crossfade") seconds -= row.crossfade_seconds;
  });
  total.textContent = seconds.toFixed(2);
  field.value = JSON.stringify(
    rows.map(({ generation, in: inPoint, out, transition, crossfade_seconds }) => ({
      generation, in: inPoint, out, transition, crossfade_seconds,
    })),
  );
};

// --- trims with a frame preview ----------------------------------------------------------------

const showFrame = (item, input) => {
  const video = item.querySelector(".clip-frame");
  const time = number(input, 0);
  if (video.readyState >= 1) video.currentTime = Math.min(time, video.duration - 0.01);
};

list.addEventListener("input", (event) => {
  const item = event.target.closest("li.clip");
  if (item && event.target.matches(".clip-in, .clip-out")) showFrame(item, event.target);
  update();
});
for (const item of clips()) {
  const video = item.querySelector(".clip-frame");
  video.addEventListener("loadedmetadata", () => showFrame(item, item.querySelector(".clip-in")));
}

// --- reorder: drag, buttons, keys ---------------------------------------------------------------

const move = (item, step) => {
  const sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
  if (!sibling) return;
  list.insertBefore(item, step < 0 ? sibling : sibling.nextElementSibling);
  item.focus();
  update();
};

list.addEventListener("click", (event) => {
  const item = event.target.closest("li.clip");
  if (!item) return;
  if (event.target.matches(".move-up")) move(item, -1);
  else if (event.target.matches(".move-down")) move(item, 1);
  else if (event.target.matches(".remove")) {
    item.remove();
    update();
  }
});

list.addEventListener("keydown", (event) => {
  const item = event.target.closest("li.clip");
  if (!item || !event.altKey) return;
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    event.preventDefault();
    move(item, event.key === "ArrowUp" ? -1 : 1);
  }
});

let dragged = null;
list.addEventListener("dragstart", (event) => {
  dragged = event.target.closest("li.clip");
  if (!dragged) return;
  dragged.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
});
list.addEventListener("dragover", (event) => {
  const over = event.target.closest("li.clip");
  if (!dragged || !over || over === dragged) return;
  event.preventDefault();
  const box = over.getBoundingClientRect();
  const after = event.clientY > box.top + box.height / 2;
  list.insertBefore(dragged, after ? over.nextElementSibling : over);
});
list.addEventListener("dragend", () => {
  if (dragged) dragged.classList.remove("dragging");
  dragged = null;
  update();
});

form.addEventListener("submit", update);

// --- the preview: clips in order with their trims, joined as the export joins them --------------
// Two stacked videos take turns. The next clip waits, loaded and at its in point, on the hidden
// one; it starts `crossfade_seconds` before the playing clip's out point (at a cut: at the out
// point) and fades in over it, so the preview lasts as long as the export.

const stage = [preview, document.getElementById("edit-preview-next")];
const stillness = window.matchMedia("(prefers-reduced-motion: reduce)");
let upcoming = []; // clips not yet cued, the next first
let shown = null; // { row, video, started }: the playing clip, whose clock times the fade
let coming = null; // the next clip, cued on the other video; fading in once started
let frame = 0;

const length = (row) => Math.max(0, row.end - row.in);

// The seconds a clip overlaps the next one: 0 at a cut, never more than either clip lasts.
const overlap = (row, next) => {
  if (!next || row.transition !== "crossfade") return 0;
  return Math.max(0, Math.min(row.crossfade_seconds, length(row), length(next)));
};

const editRows = () => {
  const rows = clips().map(read).filter((row) => row.end > row.in);
  return rows.map((row, index) => ({ ...row, fade: overlap(row, rows[index + 1]) }));
};

const onScreen = () => stage.find((video) => video.dataset.role === "current");
const otherThan = (video) => (video === stage[0] ? stage[1] : stage[0]);

// "current": below, with the controls; "above": over it, as opaque as the fade says;
// "hidden": out of sight and out of the way. Focus follows the controls.
const setRole = (video, role) => {
  if (video.dataset.role === role) return;
  const hadFocus = document.activeElement === video;
  video.dataset.role = role;
  video.controls = role === "current";
  video.setAttribute("aria-hidden", String(role !== "current"));
  video.style.opacity = "";
  if (hadFocus && role !== "current") otherThan(video).focus();
};

// Load a clip and hold it at its in point (the seek waits for the metadata if need be).
const cue = (row, video) => {
  video.dataset.in = row.in;
  if (video.getAttribute("src") !== row.video) video.src = row.video;
  else if (video.readyState >= 1) video.currentTime = row.in;
  return { row, video, started: false };
};
for (const video of stage) {
  video.addEventListener("loadedmetadata", () => {
    video.currentTime = Number(video.dataset.in) || 0;
  });
}

const start = (clip) => {
  clip.started = true;
  clip.video.play().catch(() => {});
};

// "Now playing" names the clip with the controls (set only on a change, for screen readers).
const announce = (clip) => {
  const text = clip ? `#${clip.row.generation}` : "";
  if (now.textContent !== text) now.textContent = text;
};

const cueNext = () => {
  const row = upcoming.shift();
  coming = row ? cue(row, otherThan(shown.video)) : null;
};

// From the playing clip's clock, so pausing or seeking holds the fade where the export is.
const fadeLevel = (time) => {
  const elapsed = time - (shown.row.end - shown.row.fade);
  if (stillness.matches || shown.row.fade <= 0) return elapsed >= 0 ? 1 : 0;
  return Math.min(1, Math.max(0, elapsed / shown.row.fade));
};

// Either order blends the same (level × next + (1 − level) × playing): the fainter clip goes
// on top, so the controls of the one below are never more than half veiled.
const paintFade = (level) => {
  const nextOnTop = level < 0.5;
  const [below, above] = nextOnTop ? [shown, coming] : [coming, shown];
  setRole(below.video, "current");
  setRole(above.video, "above");
  above.video.style.opacity = String(nextOnTop ? level : 1 - level);
  announce(below);
};

// A seek back to before the fade takes the next clip back to its in point, unseen.
const rewind = () => {
  setRole(shown.video, "current");
  coming.video.pause();
  setRole(coming.video, "hidden");
  coming = cue(coming.row, coming.video);
  announce(shown);
};

// During a fade the clip without the controls does as the one with them: plays or pauses.
const keepTogether = () => {
  const leader = onScreen();
  const follower = otherThan(leader);
  if (leader.ended || follower.ended || leader.paused === follower.paused) return;
  if (leader.paused) follower.pause();
  else follower.play().catch(() => {});
};

const fadeIn = (time) => {
  const level = fadeLevel(time);
  if (level > 0 && !coming.started) start(coming);
  else if (level === 0 && coming.started) rewind();
  if (!coming.started) return;
  paintFade(level);
  keepTogether();
};

const stop = () => {
  cancelAnimationFrame(frame);
  for (const video of stage) video.pause();
  if (coming?.started) {
    setRole(shown.video, "current");
    setRole(coming.video, "hidden");
  }
  shown = coming = null;
  upcoming = [];
  announce(null);
};

// The playing clip reached its out point: the next one takes the screen, or the edit ends.
const handOver = () => {
  if (!coming) return stop();
  if (!coming.started) start(coming);
  const outgoing = shown.video;
  shown = coming;
  setRole(shown.video, "current");
  announce(shown);
  outgoing.pause();
  setRole(outgoing, "hidden");
  cueNext();
};

const tick = () => {
  frame = requestAnimationFrame(tick);
  const time = shown.video.currentTime;
  if (coming) fadeIn(time);
  if (time >= shown.row.end - 0.02 || shown.video.ended) handOver();
};

const playEdit = () => {
  stop();
  upcoming = editRows();
  const first = upcoming.shift();
  if (!first) return;
  shown = cue(first, onScreen());
  start(shown);
  announce(shown);
  cueNext();
  frame = requestAnimationFrame(tick);
};
playButton.addEventListener("click", playEdit);
document.addEventListener("keydown", (event) => {
  if (event.key === "p" && !event.target.closest("input, select, textarea")) playEdit();
});

update();
