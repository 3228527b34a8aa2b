// Keyboard shortcuts of the review queue: A approve, X request changes, R reject, F flag,
// J/K next/previous, N focus the note. Typing in the note is never hijacked.
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select");
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const click = (id) => document.getElementById(id)?.click();
  const actions = {
    a: () => click("approve"),
    x: () => click("request-changes"),
    r: () => click("reject"),
    f: () => click("flag"),
    j: () => click("next"),
    k: () => click("previous"),
    n: () => document.getElementById("review-note")?.focus(),
  };
  const action = actions[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    action();
  }
});
