// The "New generation" form: keep the cost estimate in step with clarity and fast mode.
document.addEventListener("DOMContentLoaded", () => {
  const line = document.getElementById("cost-line");
  const clarity = document.getElementById("id_clarity");
  const fast = document.getElementById("id_fast_mode");
  if (!line || !clarity) return;
  const update = () => {
    const key = (clarity.value || "480p") + (fast && fast.value === "true" ? "_fast" : "");
    const price = Number(line.getAttribute("data-price-" + key));
    if (!Number.isNaN(price)) document.getElementById("cost-estimate").textContent = price.toFixed(2);
  };
  clarity.addEventListener("change", update);
  fast?.addEventListener("change", update);
  update();
});
