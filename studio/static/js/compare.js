// Compare: the first video leads; the others follow its play, pause and position.
const videos = [...document.querySelectorAll("video[data-compare]")];
const leader = videos[0];
const followers = videos.slice(1);
const seek = document.getElementById("compare-seek");
const shownTime = document.getElementById("compare-time");
// How far (seconds) a follower may drift from the leader before it is put back in step.
const DRIFT = 0.15;

const seconds = (value) => (Number.isFinite(value) ? value : 0).toFixed(2);

const align = () => {
  for (const video of followers) {
    const target = Math.min(leader.currentTime, video.duration || leader.currentTime);
    if (Math.abs(video.currentTime - target) > DRIFT) video.currentTime = target;
    if (!leader.paused && video.paused && !video.ended) video.play().catch(() => {});
  }
};

const playAll = () => {
  if (leader.ended) leader.currentTime = 0;
  for (const video of followers) video.currentTime = leader.currentTime;
  for (const video of videos) video.play().catch(() => {});
};

const pauseAll = () => {
  for (const video of videos) video.pause();
  align();
};

const seekAll = (time) => {
  for (const video of videos) video.currentTime = Math.min(time, video.duration || time);
};

const show = () => {
  seek.max = seconds(leader.duration);
  seek.value = leader.currentTime;
  shownTime.value = `${seconds(leader.currentTime)} s of ${seconds(leader.duration)} s`;
  seek.setAttribute("aria-valuetext", `${seconds(leader.currentTime)} seconds`);
};

if (leader) {
  leader.addEventListener("loadedmetadata", show);
  leader.addEventListener("timeupdate", () => {
    show();
    if (!leader.paused) align();
  });
  leader.addEventListener("ended", pauseAll);
  document.getElementById("play-all").addEventListener("click", playAll);
  document.getElementById("pause-all").addEventListener("click", pauseAll);
  seek.addEventListener("input", () => seekAll(Number(seek.value)));
  for (const video of videos) {
    video.addEventListener("click", () => (leader.paused ? playAll() : pauseAll()));
  }
  if (leader.readyState >= 1) show();
}
