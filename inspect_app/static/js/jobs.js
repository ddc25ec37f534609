// A job's page while it runs: ask the server how far it got, move the bar, and reload the
// page when the status changes (the page then shows the download link or the error).
// Without JavaScript the page reloads itself (<meta http-equiv="refresh"> in <noscript>).
const box = document.querySelector("[data-job-poll]");
const FIRST = 1000;
const LONGEST = 10000;

function show(job) {
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-job-text]");
  if (bar && job.total) {
    bar.max = job.total;
    bar.value = job.done;
  }
  if (text) text.textContent = job.text;
}

async function poll(delay) {
  let next = FIRST;
  try {
    const response = await fetch(box.dataset.jobPoll, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
    });
    if (response.type === "opaqueredirect" || [401, 403, 404].includes(response.status)) {
      // Logged out, or the job is gone: the page itself says what to do now.
      window.location.reload();
      return;
    }
    if (!response.ok) throw new Error(`status ${response.status}`);
    const job = await response.json();
    if (job.status !== box.dataset.jobStatus) {
      window.location.reload();
      return;
    }
    show(job);
  } catch {
    next = Math.min(delay * 2, LONGEST);  // offline or the server restarting: wait longer
  }
  window.setTimeout(() => poll(next), next);
}

if (box) window.setTimeout(() => poll(FIRST), FIRST);
