// Review notes on the player's timeline (a video's page and the review page): markers that
// seek, the comment box pinned to the paused frame, and the frame keys: `,` `.` one frame back
// or on, `C` the comment box. htmx swaps the notes section after each post, so every element
// is looked up when it is used; the player's events are caught on the document.
(() => {
  const $ = (id) => document.getElementById(id);
  const player = () => $("player");
  const section = () => $("review-notes");
  const fps = () => Number(section()?.dataset.fps) || 16;
  const frameCount = () => {
    const stored = Number(section()?.dataset.frames);
    return stored || Math.round((player()?.duration || 0) * fps());
  };
  // A time names the frame shown then; the slack absorbs float noise in 2.4999999 s.
  const frameAt = (seconds) => Math.floor(seconds * fps() + 1e-6);
  const timeText = (frame) => `${(frame / fps()).toFixed(2)} s`;
  const clampFrame = (frame) => Math.min(Math.max(0, frame), Math.max(0, frameCount() - 1));
  const currentFrame = () => clampFrame(frameAt(player()?.currentTime || 0));

  const seekToFrame = (frame) => {
    const video = player();
    if (!video) return;
    video.pause();
    // Half a frame in: the browser shows this frame, never the end of the one before.
    video.currentTime = (clampFrame(frame) + 0.5) / fps();
  };

  // --- the comment box ---------------------------------------------------------------------
  const fields = () => ({
    box: $("note-composer"), body: $("note-body"), start: $("note-frame"), end: $("note-end"),
    label: $("note-at"), toCurrent: $("note-to-current"), caret: $("note-caret"), playing: $("note-playing"),
  });
  // Once a note is being written (or a range marked) its frame stays put while the player moves.
  const anchored = ({ body, end }) => Boolean(body?.value.trim() || end?.value);

  const sync = () => {
    const video = player();
    const parts = fields();
    if (!video || !parts.box) return;
    const now = currentFrame();
    if (!anchored(parts)) parts.start.value = String(now);
    const start = Number(parts.start.value) || 0;
    const end = parts.end.value === "" ? null : Number(parts.end.value);
    parts.label.textContent = end !== null && end !== start
      ? `Comment on ${(start / fps()).toFixed(2)}–${timeText(end)} (frames ${start}–${end})`
      : `Comment at ${timeText(start)} (frame ${start})`;
    parts.toCurrent.hidden = false;
    parts.toCurrent.disabled = now === start || now === end;
    parts.toCurrent.textContent = `To current frame (${now})`;
    const total = frameCount();
    if (total) parts.caret.style.left = `clamp(14px, ${(100 * start) / total}%, calc(100% - 14px))`;
    const playing = !video.paused && !video.ended;
    parts.box.hidden = playing && !anchored(parts) && !parts.box.contains(document.activeElement);
    parts.playing.hidden = !parts.box.hidden;
    const playhead = $("note-playhead");
    if (playhead && total) {
      playhead.setAttribute("x", `${Math.min(100, (100 * video.currentTime * fps()) / total)}%`);
    }
  };

  const markRangeEnd = () => {
    const parts = fields();
    const now = currentFrame();
    const start = Number(parts.start.value) || 0;
    if (now >= start) {
      parts.end.value = String(now);
    } else {  // moved back before the start: the range runs from here to the start
      parts.end.value = String(start);
      parts.start.value = String(now);
    }
    sync();
  };

  const openComposer = () => {
    player()?.pause();
    const parts = fields();
    if (!parts.box) return;
    parts.box.hidden = false;
    parts.playing.hidden = true;
    parts.body.focus();
  };

  // --- markers and threads -------------------------------------------------------------------
  const highlight = (noteId, scroll = true) => {
    document.querySelectorAll(".note-thread.highlighted").forEach((item) => item.classList.remove("highlighted"));
    document.querySelectorAll(".note-mark.current").forEach((mark) => mark.classList.remove("current"));
    const thread = $(`note-${noteId}`);
    if (!thread) return;
    thread.classList.add("highlighted");
    thread.closest("details")?.setAttribute("open", "");
    document.querySelector(`.note-mark[data-note="${CSS.escape(String(noteId))}"]`)?.classList.add("current");
    if (scroll) thread.scrollIntoView({ block: "nearest", behavior: "smooth" });
  };

  document.addEventListener("click", (event) => {
    const mark = event.target.closest?.(".note-mark, .note-time");
    if (mark && (section()?.contains(mark) || mark.closest(".review-trail"))) {
      event.preventDefault();
      seekToFrame(Number(mark.dataset.frame));
      highlight(mark.dataset.note || mark.getAttribute("href").replace("#note-", ""));
      return;
    }
    const bar = event.target.closest?.("#note-bar");
    if (bar && frameCount()) {  // anywhere else on the bar: that moment of the video
      const box = bar.getBoundingClientRect();
      seekToFrame(Math.floor(((event.clientX - box.left) / box.width) * frameCount()));
      return;
    }
    if (event.target.closest?.("#note-to-current")) markRangeEnd();
  });

  // Enter posts, Shift+Enter is a new line (Cmd/Ctrl+Enter posts too).
  document.addEventListener("keydown", (event) => {
    const area = event.target.closest?.("textarea[data-enter-posts]");
    if (!area || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (area.value.trim()) area.form.requestSubmit();
  });

  document.addEventListener("input", (event) => {
    if (event.target.id === "note-frame" && event.target.value !== "") {
      seekToFrame(Number(event.target.value));
    }
    if (event.target.closest?.("#note-composer")) sync();
  });

  // --- the keys ----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !player() || !section()) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    const keys = {
      ",": () => seekToFrame(currentFrame() - 1),
      ".": () => seekToFrame(currentFrame() + 1),
      c: openComposer,
      C: openComposer,
    };
    const act = keys[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });

  // The player's events do not bubble: they are caught on their way down.
  for (const name of ["timeupdate", "seeked", "pause", "play", "loadedmetadata"]) {
    document.addEventListener(name, (event) => { if (event.target.id === "player") sync(); }, true);
  }
  document.addEventListener("focusout", () => setTimeout(sync, 0));
  // After a post the new section names the thread it went to: show it, once.
  document.body.addEventListener("htmx:afterSwap", () => {
    sync();
    const fresh = section();
    if (fresh?.dataset.highlighted && !fresh.dataset.shown) {
      fresh.dataset.shown = "1";
      highlight(fresh.dataset.highlighted);
    }
  });
  document.addEventListener("DOMContentLoaded", sync);
})();
