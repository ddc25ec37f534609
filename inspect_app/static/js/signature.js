// Signature pads (the unit representative's, an inspector's on the record, the recipient's on
// the 送达回证): canvases with pointer events (finger, pen or mouse), scaled for the screen's
// pixel density; each PNG goes into its hidden input. A page may hold several.
document.querySelectorAll("[data-signature]").forEach((canvas, index) => {
  const input = document.getElementById(canvas.dataset.signature);
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let strokes = 0;

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    strokes = 0;
    input.value = "";
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 0.1, y + 0.1);
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    strokes += 1;
    input.value = canvas.toDataURL("image/png");
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  const scope = canvas.closest("form") || document;
  scope.querySelector("[data-signature-clear]")?.addEventListener("click", () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    resize();
  });
  resize();
  if (index === 0) window.signaturePad = { strokes: () => strokes };
});
