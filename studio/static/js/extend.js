// The frame picker: the range input counts frames; the player shows the one it names.
const player = document.getElementById("extend-player");
const range = document.getElementById("extend-frame");
const label = document.getElementById("extend-frame-label");
const fps = Number(player.dataset.fps) || 16;
const last = Number(range.max);

const show = () => {
  const index = Number(range.value);
  // The middle of the frame's display time: a seek lands on it, never on a neighbour.
  const time = (index + 0.5) / fps;
  if (player.readyState >= 1) player.currentTime = Math.min(time, player.duration || time);
  label.value = `${index} of ${last} · ${(index / fps).toFixed(3)} s`;
  range.setAttribute("aria-valuetext", `frame ${index} of ${last}, ${(index / fps).toFixed(2)} seconds`);
};

range.addEventListener("input", show);
player.addEventListener("loadedmetadata", show);
show();
