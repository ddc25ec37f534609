// Audio and video evidence: refuse a file over the server's limit before it is sent, since a
// body-worn camera clip can take minutes to upload only to be refused.
for (const input of document.querySelectorAll("input[type=file][data-max-bytes]")) {
  input.addEventListener("change", () => {
    const limit = Number(input.dataset.maxBytes);
    const file = input.files && input.files[0];
    input.setCustomValidity(file && file.size > limit ? input.dataset.tooLarge || "" : "");
    input.reportValidity();
  });
}
