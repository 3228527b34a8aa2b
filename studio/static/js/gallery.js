// Gallery tiles play a muted preview while hovered or focused.
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
