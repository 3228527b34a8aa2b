// The "New generation" form: picture by drop, paste or picker with a preview; counters;
// presets; the dice; and the batch size and cost, kept in step as the person types. The form
// comes back in place with its errors after a refused submit, so it is set up on each arrival.
window.wanstudio = window.wanstudio || {};
const setUpComposer = (form) => {
  if (form.dataset.ready) return;
  form.dataset.ready = "1";
  const $ = (id) => document.getElementById(id);

  // --- the picture -------------------------------------------------------------------
  const input = $("id_image");
  const zone = $("dropzone");
  const preview = $("picture-preview");
  const info = $("picture-info");
  const maxBytes = Number(form.dataset.uploadMaxBytes);
  let pictureIsPortrait = null;

  const showPicture = (file) => {
    if (!file) return;
    const megabytes = (file.size / 1e6).toFixed(1);
    const tooBig = file.size > maxBytes;
    info.textContent = tooBig
      ? `${file.name} is ${megabytes} MB: over the ${(maxBytes / 1e6).toFixed(0)} MB limit. Pick a smaller picture.`
      : `${file.name} · ${megabytes} MB`;
    info.classList.toggle("error", tooBig);
    preview.onload = () => {
      info.textContent += ` · ${preview.naturalWidth}×${preview.naturalHeight}`;
      pictureIsPortrait = preview.naturalHeight > preview.naturalWidth;
      updateSizeHint();
    };
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    $("dropzone-text").textContent = "Drop, paste or choose another picture to replace it.";
    form.querySelectorAll('input[name="source_image"]').forEach((radio) => {
      if (radio.type === "radio") radio.checked = false;
    });
  };
  const useFiles = (files) => {
    const picture = [...files].find((file) => file.type.startsWith("image/"));
    if (!picture) return;
    const transfer = new DataTransfer();
    transfer.items.add(picture);
    input.files = transfer.files;
    showPicture(picture);
  };
  input.addEventListener("change", () => showPicture(input.files[0]));
  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }),
  );
  ["dragleave", "drop"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("dragging")),
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    useFiles(event.dataTransfer.files);
  });
  form.pasteFiles = useFiles;
  form.querySelectorAll('.pick input[type="radio"]').forEach((radio) =>
    radio.addEventListener("change", () => {
      input.value = "";
      const image = radio.parentElement.querySelector("img");
      preview.src = image.src;
      preview.hidden = false;
      info.textContent = image.closest(".pick").title;
      pictureIsPortrait = image.naturalHeight > image.naturalWidth;
      updateSizeHint();
    }),
  );

  // --- text ----------------------------------------------------------------------------
  form.querySelectorAll("textarea[data-counter]").forEach((area) => {
    const counter = $(area.dataset.counter);
    const limit = Number(area.dataset.limit);
    const count = () => {
      const longest = $("id_one_prompt_per_line")?.checked && area.id === "id_prompt"
        ? Math.max(0, ...area.value.split("\n").map((line) => line.trim().length))
        : area.value.length;
      counter.textContent = `${longest} / ${limit}`;
      counter.classList.toggle("error", longest > limit);
    };
    area.addEventListener("input", count);
    count();
  });
  $("prompt-preset")?.addEventListener("change", (event) => {
    const option = event.target.selectedOptions[0];
    if (!option.value) return;
    $("id_prompt").value = option.dataset.prompt;
    $("id_negative_prompt").value = option.dataset.negative;
    form.querySelectorAll("textarea").forEach((area) => area.dispatchEvent(new Event("input")));
  });
  form.querySelectorAll("select[data-scale-target]").forEach((select) =>
    select.addEventListener("change", () => {
      const scale = select.selectedOptions[0].dataset.defaultScale;
      const target = $(select.dataset.scaleTarget);
      if (scale && !target.value) target.value = scale;
    }),
  );

  // --- seed ------------------------------------------------------------------------------
  const seed = $("id_seed");
  const randomSeed = $("id_random_seed");
  const syncSeed = () => { seed.disabled = randomSeed.checked; };
  randomSeed.addEventListener("change", syncSeed);
  $("dice").addEventListener("click", () => {
    randomSeed.checked = false;
    syncSeed();
    seed.value = Math.floor(Math.random() * 2147483647);
  });
  syncSeed();

  // --- size, batch and cost ------------------------------------------------------------
  const clarity = $("id_clarity");
  const orientation = $("id_orientation");
  const updateSizeHint = () => {
    const big = clarity.value === "720p";
    const [long, short] = big ? [1280, 720] : [832, 480];
    const choice = orientation.value;
    const portrait = choice === "portrait" || (choice !== "landscape" && pictureIsPortrait);
    const known = choice !== "auto" || pictureIsPortrait !== null;
    $("size-hint").textContent = known
      ? `Asks for ${portrait ? `${short}×${long}` : `${long}×${short}`} (${clarity.value || "480p"}); the video keeps the picture's aspect ratio.`
      : "The video keeps the picture's aspect ratio: a portrait picture makes a portrait video.";
  };
  const line = $("cost-line");
  const updateCost = () => {
    const prompts = $("id_one_prompt_per_line").checked
      ? $("id_prompt").value.split("\n").filter((text) => text.trim()).length
      : 1;
    const seeds = Math.max(1, Number($("id_seed_count").value) || 1);
    const scales = $("id_lora_scales").value.split(/[,\s]+/).filter(Boolean).length || 1;
    const count = Math.max(1, prompts) * seeds * scales;
    const key = (clarity.value || "480p") + ($("id_fast_mode").value === "true" ? "_fast" : "");
    const price = Number(line.getAttribute("data-price-" + key));
    $("batch-size").textContent = count;
    $("batch-plural").textContent = count === 1 ? "" : "s";
    $("cost-estimate").textContent = (price * count).toFixed(2);
  };
  [clarity, orientation].forEach((select) => select.addEventListener("change", updateSizeHint));
  form.addEventListener("input", updateCost);
  form.addEventListener("change", updateCost);
  updateSizeHint();
  updateCost();

  // Another take's settings, as /generations/<id>/settings/ gives them: every field set,
  // LoRA rows not named emptied, and the picture shown as the one to use.
  window.wanstudio.fillForm = ({ fields, picture }) => {
    form.querySelectorAll('[name^="lora_"]').forEach((field) => { field.value = ""; });
    for (const [name, value] of Object.entries(fields)) {
      if (name === "source_image") continue;
      const field = form.elements.namedItem(name);
      if (!field || field instanceof RadioNodeList) continue;
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value === null ? "" : String(value);
    }
    if (picture) {
      form.querySelectorAll('input[type="radio"][name="source_image"]').forEach((radio) => {
        radio.checked = false;
      });
      $("picked-source").innerHTML = "";
      const hidden = document.createElement("input");
      Object.assign(hidden, { type: "hidden", name: "source_image", value: picture.id });
      $("picked-source").appendChild(hidden);
      input.value = "";
      preview.src = picture.url;
      preview.hidden = false;
      $("dropzone-text").textContent = `Using ${picture.label}. Drop, paste or choose another to replace it.`;
    }
    syncSeed();
    form.querySelectorAll("textarea").forEach((area) => area.dispatchEvent(new Event("input")));
    updateSizeHint();
    updateCost();
  };
};

document.addEventListener("paste", (event) => {
  const form = document.getElementById("generation-form");
  if (form?.pasteFiles && event.clipboardData?.files?.length) form.pasteFiles(event.clipboardData.files);
});
htmx.onLoad((root) => {
  const form = root.id === "generation-form" ? root : root.querySelector?.("#generation-form");
  if (form) setUpComposer(form);
});
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("generation-form");
  if (form) setUpComposer(form);
});
