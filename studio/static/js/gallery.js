// The gallery: muted previews on hover, a selection with its actions, tile size, filters that
// fold away on phones, "new work landed" from the pulse, and the viewer (lightbox) whose
// place is in the URL (?view=<id>), so it can be shared and the back button closes it.
(() => {
  const $ = (id) => document.getElementById(id);

  // --- previews -----------------------------------------------------------------------
  const startPreview = (link) => {
    if (!link.dataset.preview || link.querySelector("video")) return;
    const video = document.createElement("video");
    Object.assign(video, { src: link.dataset.preview, muted: true, loop: true, playsInline: true });
    video.setAttribute("aria-hidden", "true");
    link.querySelector(".tile-media").appendChild(video);
    video.play().catch(() => {});
  };
  const stopPreview = (link) => link.querySelector("video")?.remove();
  for (const [start, stop] of [["mouseover", "mouseout"], ["focusin", "focusout"]]) {
    document.addEventListener(start, (event) => {
      const link = event.target.closest?.(".tile-link");
      if (link) startPreview(link);
    });
    document.addEventListener(stop, (event) => {
      const link = event.target.closest?.(".tile-link");
      if (link && !link.contains(event.relatedTarget)) stopPreview(link);
    });
  }

  // --- selection ----------------------------------------------------------------------
  const picks = () => [...document.querySelectorAll('input[name="ids"][form="selection"]')];
  const showSelection = () => {
    const bar = $("selection");
    if (!bar) return;
    const count = picks().filter((box) => box.checked).length;
    bar.hidden = count === 0;
    $("selected-count").textContent = count;
    picks().forEach((box) => box.closest(".card-tile")?.classList.toggle("selected", box.checked));
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches?.('input[name="ids"][form="selection"]')) showSelection();
  });
  document.addEventListener("click", (event) => {
    if (event.target.id !== "clear-selection") return;
    picks().forEach((box) => { box.checked = false; });
    showSelection();
  });

  // The selection's board menu (a <details>) closes on a click elsewhere, Escape or Clear.
  const closeMenus = (except) => document.querySelectorAll(".selection-menu[open]").forEach((menu) => {
    if (menu !== except) menu.open = false;
  });
  document.addEventListener("click", (event) => closeMenus(event.target.closest?.(".selection-menu")));
  document.addEventListener("keydown", (event) => {
    const menu = document.querySelector(".selection-menu[open]");
    if (event.key !== "Escape" || !menu) return;
    event.stopImmediatePropagation();
    menu.open = false;
    menu.querySelector("summary").focus();
  }, true);

  // --- masonry: each tile spans as many 4 px rows as it is tall ----------------------------
  const ROW = 4;
  const pack = () => {
    const grid = $("gallery");
    if (!grid) return;
    grid.classList.add("masonry");
    const gap = parseFloat(getComputedStyle(grid.querySelector(".card-tile") || grid).marginBottom) || 0;
    grid.querySelectorAll(".card-tile").forEach((tile) => {
      tile.style.gridRowEnd = `span ${Math.ceil((tile.getBoundingClientRect().height + gap) / ROW)}`;
    });
  };
  let packing = null;
  const packSoon = () => { cancelAnimationFrame(packing); packing = requestAnimationFrame(pack); };
  window.addEventListener("resize", packSoon);

  // Filters left empty stay out of the URL the gallery moves to.
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.id !== "filters") return;
    const parameters = event.detail.parameters;
    for (const [name, value] of [...parameters.entries()]) {
      if (value === "") parameters.delete(name);
    }
  });

  // --- tile size and the folding filters ---------------------------------------------------
  const applyDensity = () => {
    const density = localStorage.getItem("wanstudio.density") || "small";
    $("gallery")?.classList.toggle("large", density === "large");
    document.querySelectorAll("[data-density]").forEach((button) =>
      button.setAttribute("aria-pressed", String(button.dataset.density === density)),
    );
    packSoon();
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-density]");
    if (button) {
      localStorage.setItem("wanstudio.density", button.dataset.density);
      applyDensity();
    }
    const toggle = event.target.closest?.(".filters-toggle");
    if (toggle) {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.closest(".filters").classList.toggle("open", open);
    }
  });

  // --- new work from the pulse -------------------------------------------------------------
  document.body.addEventListener("pulse", (event) => {
    const grid = $("gallery");
    if (!grid || !$("new-work")) return;
    const landed = event.detail.mine.some((row) => row.status === "succeeded")
      || event.detail.team_active !== Number(grid.dataset.teamActive ?? event.detail.team_active);
    grid.dataset.teamActive = event.detail.team_active;
    if (landed && !new URL(location).searchParams.get("after")) $("new-work").hidden = false;
  });

  // --- the viewer -----------------------------------------------------------------------
  const viewer = $("viewer");
  const video = $("viewer-video");
  const FRAME = 1 / 16; // the API's videos run at 16 frames a second
  let current = null;
  const tiles = () => [...document.querySelectorAll("#gallery .card-tile[data-video]")];
  const tileFor = (id) => document.querySelector(`#gallery .card-tile[data-id="${CSS.escape(id)}"]`);
  const csrf = () => document.querySelector('input[name="csrfmiddlewaretoken"]')?.value;

  const show = (tile, how) => {
    if (!tile || !viewer) return;
    current = tile;
    const id = tile.dataset.id;
    const caption = tile.querySelector(".tile-caption").textContent.trim();
    $("viewer-title").textContent = `#${id}`;
    $("viewer-prompt").textContent = caption;
    $("viewer-meta").textContent = [...tile.querySelectorAll(".tile-meta > span, .tile-meta .badge, .tile-meta .chip")]
      .map((part) => part.textContent.trim()).filter(Boolean).join(" · ");
    $("viewer-detail").href = tile.dataset.detail;
    $("viewer-status").textContent = "";
    video.poster = tile.dataset.poster || "";
    video.src = tile.dataset.video;
    video.play().catch(() => {});
    syncFavourite();
    viewer.hidden = false;
    document.body.classList.add("viewing");
    const url = new URL(location);
    url.searchParams.set("view", id);
    if (how === "push") history.pushState({ view: id }, "", url);
    else if (how === "replace") history.replaceState({ view: id }, "", url);
    viewer.querySelector('[data-viewer="close"]').focus({ preventScroll: true });
  };
  const hide = (how) => {
    if (!viewer || viewer.hidden) return;
    video.pause();
    video.removeAttribute("src");
    video.load();
    viewer.hidden = true;
    document.body.classList.remove("viewing");
    if (how === "back" && history.state?.view) history.back();
    else if (how === "replace") {
      const url = new URL(location);
      url.searchParams.delete("view");
      history.replaceState({}, "", url);
    }
    current?.querySelector(".tile-link")?.focus({ preventScroll: true });
  };
  const step = (by) => {
    const list = tiles();
    const at = list.indexOf(current);
    const next = list[at + by];
    if (next) {
      show(next, "replace");
      next.scrollIntoView({ block: "nearest" });
    } else if (by > 0) {
      document.querySelector("#gallery .load-more a")?.scrollIntoView();
    }
  };
  const syncFavourite = () => {
    const star = current?.querySelector(".star");
    const on = star?.classList.contains("on");
    const button = viewer.querySelector('[data-viewer="favourite"]');
    button.setAttribute("aria-pressed", String(Boolean(on)));
    button.textContent = on ? "★ Favourite" : "☆ Favourite";
  };
  const favourite = () => {
    const star = current?.querySelector(".star");
    if (star) htmx.trigger(star, "click");
  };
  // Add to board from the viewer: the one video on show, said in place.
  $("viewer-board")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const form = event.target;
    const body = new FormData(form);
    body.set("ids", current.dataset.id);
    const response = await fetch(form.action, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
    });
    const said = [200, 400].includes(response.status) ? await response.text() : "";
    $("viewer-status").textContent = said || "That did not go through.";
  });
  const review = async (state) => {
    const gallery = $("gallery-body");
    if (!current || !gallery?.dataset.mayReview) return;
    const url = gallery.dataset.reviewUrl.replace("/0/", `/${current.dataset.id}/`);
    const body = new URLSearchParams({ state, next: "detail" });
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }, redirect: "manual",
    });
    const done = response.type === "opaqueredirect" || response.ok;
    $("viewer-status").textContent = done ? `#${current.dataset.id}: ${state}.` : "That did not go through.";
    if (done) current.dataset.review = state;
  };

  if (viewer) {
    document.addEventListener("click", (event) => {
      const link = event.target.closest?.("#gallery .tile-link");
      if (link && !(event.metaKey || event.ctrlKey || event.shiftKey || event.button)) {
        const tile = link.closest(".card-tile");
        if (tile.dataset.video) {
          event.preventDefault();
          show(tile, "push");
        }
      }
      const action = event.target.closest?.("[data-viewer]")?.dataset.viewer;
      if (action === "close") hide("back");
      if (action === "previous") step(-1);
      if (action === "next") step(1);
      if (action === "favourite") favourite();
      if (event.target === viewer) hide("back");
    });
    document.body.addEventListener("htmx:afterSwap", () => { if (current && !viewer.hidden) syncFavourite(); });
    document.addEventListener("keydown", (event) => {
      if (viewer.hidden || event.target.matches?.("input, textarea, select")) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const keys = {
        ArrowLeft: () => step(-1), ArrowRight: () => step(1), Escape: () => hide("back"),
        " ": () => (video.paused ? video.play() : video.pause()),
        ",": () => { video.pause(); video.currentTime = Math.max(0, video.currentTime - FRAME); },
        ".": () => { video.pause(); video.currentTime = Math.min(video.duration || 0, video.currentTime + FRAME); },
        f: () => favourite(), a: () => review("approved"), x: () => review("changes"), r: () => review("rejected"), F: () => review("flagged"),
      };
      const act = keys[event.key];
      if (!act) return;
      event.preventDefault();
      act();
    });
    window.addEventListener("popstate", () => {
      const id = new URL(location).searchParams.get("view");
      const tile = id && tileFor(id);
      if (tile) show(tile, "none");
      else hide("none");
    });
  }

  const start = () => {
    applyDensity();
    showSelection();
    const id = new URL(location).searchParams.get("view");
    if (id && /^\d+$/.test(id) && tileFor(id)) show(tileFor(id), "replace");
  };
  document.addEventListener("DOMContentLoaded", start);
  document.body?.addEventListener("htmx:afterSettle", () => { applyDensity(); showSelection(); });
  document.fonts?.ready.then(packSoon);
})();
