// 扫码入企: read the unit's QR sign with the tablet's camera. The browser's BarcodeDetector is
// used where it reads QR codes (Android, ChromeOS, macOS); elsewhere (iPadOS Safari, Linux) the
// vendored jsQR decoder is loaded and fed downscaled frames. The code read fills the same field
// one can type into; the inspector still confirms the arrival with the form's button.
const form = document.querySelector("[data-arrival-form]");
const input = form && form.querySelector("input[name=code]");
const start = document.querySelector("[data-scan-start]");
const stopButton = document.querySelector("[data-scan-stop]");
const panel = document.querySelector("[data-scan-panel]");
const video = panel && panel.querySelector("video");
const status = document.querySelector("[data-scan-status]");
const FRAME_EDGE = 640; // decode at most 640 px on the long edge: enough for a sign, bounded work
const INTERVAL_MS = 250;
let stream = null;
let timer = null;

// The sign holds the arrival URL (…/arrive?code=XXXXXXXX); a bare code is accepted too.
export function codeFrom(text) {
  let code = String(text || "").trim();
  try {
    const fromUrl = new URL(code).searchParams.get("code");
    if (fromUrl) code = fromUrl;
  } catch {
    // not a URL: the text itself
  }
  code = code.replace(/\s+/g, "").toUpperCase();
  return /^[A-Z2-7]{8}$/.test(code) ? code : null;
}

function say(key) {
  if (status) status.textContent = status.dataset[key] || "";
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function makeDetector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return async (source) => (await detector.detect(source)).map((b) => b.rawValue);
      }
    } catch {
      // fall back to the vendored decoder below
    }
  }
  if (!window.jsQR) await loadScript(start.dataset.decoder);
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (source) => {
    const w = source.videoWidth;
    const h = source.videoHeight;
    if (!w || !h) return [];
    const scale = Math.min(1, FRAME_EDGE / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, {
      inversionAttempts: "attemptBoth",
    });
    return found ? [found.data] : [];
  };
}

function stop() {
  clearTimeout(timer);
  timer = null;
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  if (video) video.srcObject = null;
  if (panel) panel.hidden = true;
  if (start) start.hidden = false;
}

async function scan() {
  say("starting");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    });
  } catch {
    say("denied");
    return;
  }
  let detect;
  try {
    detect = await makeDetector();
  } catch {
    stop();
    say("unsupported");
    return;
  }
  video.srcObject = stream;
  panel.hidden = false;
  start.hidden = true;
  await video.play().catch(() => {});
  say("scanning");
  const tick = async () => {
    if (!stream) return;
    let values = [];
    try {
      values = await detect(video);
    } catch {
      values = [];
    }
    for (const value of values) {
      const code = codeFrom(value);
      if (code) {
        input.value = code;
        stop();
        say("found");
        form.querySelector("button[type=submit]").focus();
        return;
      }
      say("foreign");
    }
    timer = setTimeout(tick, INTERVAL_MS);
  };
  tick();
}

if (form && input && start && panel && video && navigator.mediaDevices) {
  start.hidden = false;
  start.addEventListener("click", scan);
  if (stopButton) stopButton.addEventListener("click", () => {
    stop();
    say("stopped");
  });
  window.addEventListener("pagehide", stop);
}
