// The detail page: ← and → open the newer and older video, as the gallery's viewer does.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
  if (event.target.matches?.("input, textarea, select, video, [contenteditable]")) return;
  const link = document.querySelector(`.pager [data-key="${event.key}"]`);
  if (link) link.click();
});
