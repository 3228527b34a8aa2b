// A guest's page (share links): under each shared video, clicking the timeline bar seeks there,
// clicking a comment's marker (or its time) seeks to it, and pausing pins the comment form to the
// frame shown: "Comment at 2.50 s (frame 40)". Without this file the form asks for the seconds.
// Each video is a .guest-item with its own player, bar and form.
(() => {
  const partsOf = (item) => ({
    player: item.querySelector(".guest-player"),
    notes: item.querySelector(".guest-notes"),
    playhead: item.querySelector(".guest-note-bar .note-playhead"),
    seconds: item.querySelector(".guest-comment input[name=seconds]"),
    timeRow: item.querySelector(".guest-comment-time"),
    at: item.querySelector(".guest-comment-at"),
  });
  const fps = (parts) => Number(parts.notes?.dataset.fps) || 16;
  const frameCount = (parts) =>
    Number(parts.notes?.dataset.frames) || Math.round((parts.player?.duration || 0) * fps(parts));
  // A time names the frame shown then; the slack absorbs float noise in 2.4999999 s.
  const frameAt = (parts, seconds) => Math.floor(seconds * fps(parts) + 1e-6);

  const pinTo = (parts, frame) => {
    if (!parts.seconds) return;
    const seconds = frame / fps(parts);
    parts.seconds.value = String(seconds);
    parts.at.textContent = `Comment at ${seconds.toFixed(2)} s (frame ${frame})`;
  };

  const seekTo = (parts, frame) => {
    const total = frameCount(parts);
    if (!parts.player || !total) return;
    const shown = Math.min(Math.max(0, frame), total - 1);
    parts.player.pause();
    // The page loads no video until asked (preload="none"): a seek asks for this one.
    if (parts.player.readyState === HTMLMediaElement.HAVE_NOTHING) parts.player.preload = "auto";
    // Half a frame in: the browser shows this frame, never the end of the one before.
    parts.player.currentTime = (shown + 0.5) / fps(parts);
    pinTo(parts, shown);
  };

  const movePlayhead = (parts) => {
    const total = frameCount(parts);
    if (!parts.playhead || !total) return;
    const percent = Math.min(100, (100 * parts.player.currentTime * fps(parts)) / total);
    parts.playhead.setAttribute("x", `${percent}%`);
  };

  document.addEventListener("click", (event) => {
    const item = event.target.closest?.(".guest-item");
    if (!item) return;
    const parts = partsOf(item);
    const mark = event.target.closest(".note-mark, .note-time");
    if (mark) {
      event.preventDefault();
      seekTo(parts, Number(mark.dataset.frame));
      document.querySelectorAll(".note-thread.highlighted").forEach((thread) => thread.classList.remove("highlighted"));
      document.getElementById((mark.getAttribute("href") || "").slice(1))?.classList.add("highlighted");
      return;
    }
    const bar = event.target.closest(".guest-note-bar");
    if (bar) {  // that moment of the video: the nearest frame, as the markers are placed
      const box = bar.getBoundingClientRect();
      seekTo(parts, Math.round(((event.clientX - box.left) / box.width) * frameCount(parts)));
    }
  });

  // The player's events do not bubble: they are caught on their way down.
  const onPlayer = (name, act) => document.addEventListener(name, (event) => {
    if (!event.target.classList?.contains("guest-player")) return;
    act(partsOf(event.target.closest(".guest-item")), event.target);
  }, true);
  onPlayer("pause", (parts, player) => pinTo(parts, frameAt(parts, player.currentTime)));
  onPlayer("seeked", (parts, player) => {
    if (player.paused) pinTo(parts, frameAt(parts, player.currentTime));
    movePlayhead(parts);
  });
  onPlayer("timeupdate", movePlayhead);

  // Back from posting (the page's address names the thread): the player waits at its moment.
  const showPostedThread = () => {
    const thread = location.hash.startsWith("#note-") && document.getElementById(location.hash.slice(1));
    const item = thread?.closest?.(".guest-item");
    if (!item || !thread.classList.contains("note-thread")) return;
    thread.classList.add("highlighted");
    seekTo(partsOf(item), Number(thread.dataset.frame));
  };

  const start = () => {
    for (const item of document.querySelectorAll(".guest-item")) {
      const parts = partsOf(item);
      if (!parts.seconds || !parts.at) continue;
      // The time comes from the player now; a refused time stays in view beside its error.
      if (parts.seconds.getAttribute("aria-invalid") === "true") continue;
      parts.timeRow.hidden = true;
      parts.at.hidden = false;
      pinTo(parts, frameAt(parts, Number(parts.seconds.value) || 0));
    }
    showPostedThread();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
