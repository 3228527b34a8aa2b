// Reuse settings from a file: an MP4 the studio made carries its parameters, and dropping it
// anywhere on the Studio form fills every field from them (the picture stays as it is).
// window.wanstudio.settingsFromFile(file) does the same for a file picked another way.
(() => {
  const MAX_BYTES = 200 * 1024 * 1024; // as the server's limit
  const DEFAULT_URL = "/studio/settings-from-file/";
  const form = () => document.getElementById("generation-form");
  const isVideo = (file) => file.type === "video/mp4" || /\.(mp4|m4v|mov)$/i.test(file.name);
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");

  // A short note where the file was dropped: the page's #settings-drop-note, or one made at
  // the top of the form.
  const say = (text, isError = false) => {
    const current = form();
    if (!current) return;
    let note = document.getElementById("settings-drop-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "settings-drop-note";
      note.className = "small";
      note.setAttribute("role", "status");
      current.prepend(note);
    }
    note.textContent = text;
    note.classList.toggle("error", isError);
  };

  // Fields by the form's names (as /generations/<id>/settings/ gives them): LoRA rows not
  // named are emptied; every listener that keeps counters, seed and cost in step is told.
  const fill = (current, fields) => {
    if (window.wanstudio?.fillForm) {
      window.wanstudio.fillForm({ fields });
      return;
    }
    current.querySelectorAll('[name^="lora_"]').forEach((field) => { field.value = ""; });
    for (const [name, value] of Object.entries(fields)) {
      const field = current.elements.namedItem(name);
      if (!field || field instanceof RadioNodeList) continue;
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value === null ? "" : String(value);
      field.dispatchEvent(new Event(field.tagName === "TEXTAREA" ? "input" : "change", { bubbles: true }));
    }
  };

  const settingsFromFile = async (file) => {
    const current = form();
    if (!current || !file) return false;
    if (file.size > MAX_BYTES) {
      say(`${file.name} is ${(file.size / 1e6).toFixed(0)} MB; a video to read settings from may be up to ${MAX_BYTES / 1e6} MB.`, true);
      return false;
    }
    say(`Reading the settings of ${file.name}…`);
    const body = new FormData();
    body.append("file", file);
    const token = current.querySelector('input[name="csrfmiddlewaretoken"]')?.value || "";
    let answer;
    try {
      const response = await fetch(current.dataset.settingsFromFileUrl || DEFAULT_URL, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, Accept: "application/json" },
      });
      answer = await response.json();
      if (!response.ok) {
        say(answer.error || "The settings could not be read from this file.", true);
        return false;
      }
    } catch {
      say("The settings could not be read: the studio did not answer. Try again.", true);
      return false;
    }
    fill(current, answer.fields);
    const loras = answer.loras.length ? ` and ${answer.loras.length} LoRA${answer.loras.length > 1 ? "s" : ""}` : "";
    say(`Settings${loras} from ${file.name} are in the form. Pick a picture and generate.`);
    return true;
  };

  window.wanstudio = window.wanstudio || {};
  window.wanstudio.settingsFromFile = settingsFromFile;

  // Delegated to the document: the form may be swapped by htmx after a submit.
  ["dragenter", "dragover"].forEach((name) =>
    document.addEventListener(name, (event) => {
      const target = event.target.closest?.("#generation-form");
      if (!target || !carriesFiles(event)) return;
      event.preventDefault(); // let the file drop here rather than open in the tab
      target.classList.add("dragging-file");
    }),
  );
  ["dragleave", "drop"].forEach((name) =>
    document.addEventListener(name, (event) => {
      const target = event.target.closest?.("#generation-form");
      if (target && !target.contains(event.relatedTarget)) target.classList.remove("dragging-file");
    }),
  );
  document.addEventListener("drop", (event) => {
    if (!event.target.closest?.("#generation-form") || !carriesFiles(event)) return;
    const video = [...event.dataTransfer.files].find(isVideo);
    if (video) {
      event.preventDefault();
      settingsFromFile(video);
    } else if (!event.defaultPrevented) { // not taken by the picture's drop zone
      event.preventDefault(); // rather than leave the studio to show the file
      say("Drop a picture on the picture's box, or a video made here to reuse its settings.", true);
    }
  });
})();
