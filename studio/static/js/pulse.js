// Every open page asks the studio's pulse whether anything moved: a conditional request that
// costs the server one small query while nothing did (304). When work moves, the page hears a
// "pulse" event (panels refresh on it with hx-trigger="pulse from:body"), the title counts the
// viewer's own work that landed, and a browser notification says so once they allowed it.
(() => {
  const IDLE_MS = 2500; // "within 3 s" of work started anywhere
  const BUSY_MS = 1500;
  const HIDDEN_MS = 10000;
  const LANDED = ["succeeded", "failed", "needs_attention", "canceled"];
  const url = document.body.dataset.pulse;
  if (!url) return;

  const baseTitle = document.title;
  const seen = new Map(); // id -> status of the viewer's own recent work
  let etag = "";
  let busy = false;
  let unseen = 0;
  let timer = null;

  const announce = (row) => {
    unseen += 1;
    document.title = `(${unseen}) ${baseTitle}`;
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(`#${row.id} ${row.label.toLowerCase()}`, { body: row.prompt });
    }
  };

  const take = (news, first) => {
    for (const row of news.mine) {
      const before = seen.get(row.id);
      seen.set(row.id, row.status);
      if (!first && before && before !== row.status && LANDED.includes(row.status)) announce(row);
    }
    busy = news.team_active > 0;
    document.body.dataset.teamActive = news.team_active;
    if (!first) document.body.dispatchEvent(new CustomEvent("pulse", { detail: news }));
  };

  let first = true;
  const beat = async () => {
    try {
      const response = await fetch(url, {
        headers: etag ? { "If-None-Match": etag } : {},
        cache: "no-store",
        credentials: "same-origin",
      });
      if (response.status === 200) {
        etag = response.headers.get("ETag") || "";
        take(await response.json(), first);
        first = false;
      }
    } catch (error) {
      // Offline for a moment: try again at the next beat.
    }
    schedule();
  };
  const schedule = () => {
    clearTimeout(timer);
    const wait = document.hidden ? HIDDEN_MS : busy ? BUSY_MS : IDLE_MS;
    timer = setTimeout(beat, wait);
  };

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    unseen = 0;
    document.title = baseTitle;
    beat();
  });

  const bell = document.getElementById("notify");
  if (bell && "Notification" in window && Notification.permission === "default") {
    bell.hidden = false;
    bell.addEventListener("click", () =>
      Notification.requestPermission().then(() => { bell.hidden = true; }),
    );
  }
  beat();

  // Between two polls of the API the bars keep moving at the pace its eta gave (never to 100
  // before the API says done); the next answer redraws them from the truth.
  const started = new WeakMap();
  setInterval(() => {
    document.querySelectorAll("progress[data-seconds-left]").forEach((bar) => {
      if (!started.has(bar)) started.set(bar, [Date.now(), Number(bar.value)]);
      const [at, from] = started.get(bar);
      const share = (Date.now() - at) / 1000 / Number(bar.dataset.secondsLeft);
      bar.value = Math.min(99, Math.floor(from + (100 - from) * Math.min(1, share)));
    });
  }, 1000);
})();
