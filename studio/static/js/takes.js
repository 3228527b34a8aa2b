// The studio page's loop: "Reuse" puts a take's settings in the form without a page load,
// "Your recent" picks up work of yours started elsewhere (another tab, the JSON API), and a
// submit that went through clears the errors an earlier try left.
(() => {
  const form = () => document.getElementById("generation-form");

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-reuse]");
    if (!button) return;
    const response = await fetch(button.dataset.reuse, { credentials: "same-origin" });
    if (!response.ok) return;
    window.wanstudio.fillForm(await response.json());
    document.getElementById("submit-note").textContent =
      `Settings of #${button.closest("[data-id]").dataset.id} are in the form.`;
    form()?.scrollIntoView({ behavior: "smooth", block: "start" });
  });

  document.body.addEventListener("pulse", (event) => {
    const list = document.getElementById("recent-list");
    if (!list) return;
    const shown = [...list.querySelectorAll("[data-id]")].map((take) => Number(take.dataset.id));
    const newest = Math.max(0, ...shown);
    if (event.detail.mine.some((row) => row.id > newest)) htmx.trigger(list, "refresh");
  });

  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== form() || !event.detail.successful) return;
    const current = form();
    current.querySelectorAll("small.error, div.error").forEach((error) => error.remove());
    current.querySelectorAll(".has-error").forEach((field) => field.classList.remove("has-error"));
    current.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
    const file = document.getElementById("id_image");
    if (file) file.value = ""; // the picture is stored now: the next try reuses it
  });

  // Panels re-read whole keep the batches a person opened open.
  let open = [];
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    open = [...event.detail.target.querySelectorAll("details[data-keep-open][open]")].map((d) => d.id);
  });
  document.body.addEventListener("htmx:afterSwap", () => {
    open.forEach((id) => document.getElementById(id)?.setAttribute("open", ""));
  });
})();
