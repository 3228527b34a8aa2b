// The live queue tells its owner when their generations finish: in the page title always,
// and with a browser notification once they allowed it.
document.addEventListener("DOMContentLoaded", () => {
  const baseTitle = document.title;
  const seen = new Map();
  let finishedUnseen = 0;
  const button = document.getElementById("notify");
  if (button && "Notification" in window && Notification.permission === "default") {
    button.hidden = false;
    button.addEventListener("click", () =>
      Notification.requestPermission().then(() => { button.hidden = true; }),
    );
  }
  const remember = (announce) => {
    const queue = document.getElementById("queue");
    if (!queue) return;
    const me = queue.dataset.user;
    queue.querySelectorAll("li[data-id]").forEach((row) => {
      const { id, status, owner } = row.dataset;
      const before = seen.get(id);
      seen.set(id, status);
      const landed = ["succeeded", "failed", "needs_attention"].includes(status);
      if (!announce || owner !== me || !before || before === status || !landed) return;
      finishedUnseen += 1;
      document.title = `(${finishedUnseen}) ${baseTitle}`;
      if ("Notification" in window && Notification.permission === "granted") {
        const title = row.querySelector(".row-title").textContent.trim();
        new Notification(`#${id} ${status.replace("_", " ")}`, { body: title });
      }
    });
  };
  remember(false);
  document.body.addEventListener("htmx:afterSettle", () => remember(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      finishedUnseen = 0;
      document.title = baseTitle;
    }
  });
});
