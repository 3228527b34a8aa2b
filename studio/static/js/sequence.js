// The sequence editor: reorder (drag, or Alt+↑/↓), trim with a frame preview, the total
// duration, and a preview that plays the clips in order with their trims.
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

// --- the preview: clips in order, each from its in to its out -----------------------------------

let queue = [];
let playing = null;

const playNext = () => {
  playing = queue.shift() || null;
  if (!playing) {
    preview.pause();
    now.textContent = "";
    return;
  }
  now.textContent = `#${playing.generation}`;
  const start = () => {
    preview.currentTime = playing.in;
    preview.play().catch(() => {});
  };
  if (preview.getAttribute("src") === playing.video && preview.readyState >= 1) start();
  else {
    preview.src = playing.video;
    preview.addEventListener("loadedmetadata", start, { once: true });
  }
};

preview.addEventListener("timeupdate", () => {
  if (playing && preview.currentTime >= playing.end - 0.02) playNext();
});
preview.addEventListener("ended", () => {
  if (playing) playNext();
});

const playEdit = () => {
  queue = clips().map(read).filter((row) => row.end > row.in);
  playNext();
};
playButton.addEventListener("click", playEdit);
document.addEventListener("keydown", (event) => {
  if (event.key === "p" && !event.target.closest("input, select, textarea")) playEdit();
});

update();
