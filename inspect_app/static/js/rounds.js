// Round pages: choosing a lead also puts them on the team; "select all" and a live count of targets.

for (const radio of document.querySelectorAll("[data-lead]")) {
  radio.addEventListener("change", () => {
    const member = document.getElementById(`m-${radio.value}`);
    if (member && radio.checked) {
      member.checked = true;
    }
  });
}

const targets = () => [...document.querySelectorAll('input[name="target"]')];
const count = document.querySelector("[data-selected-count]");

function updateCount() {
  if (count) {
    count.textContent = String(targets().filter((box) => box.checked).length);
  }
}

document.addEventListener("change", (event) => {
  if (event.target.name === "target") {
    updateCount();
  }
});

const selectAll = document.querySelector("[data-select-all]");
if (selectAll && targets().length) {
  selectAll.hidden = false;
  selectAll.addEventListener("click", () => {
    const boxes = targets();
    const every = boxes.every((box) => box.checked);
    for (const box of boxes) {
      box.checked = !every;
    }
    updateCount();
  });
}
updateCount();
