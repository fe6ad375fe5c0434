// Small enhancements; every page works without them.

// A file over the attachment limit is refused as soon as it is chosen, with the
// server's own message, so nobody waits for a slow upload to be told it is too large.
// (Forms are novalidate: errors are shown as the server shows them, in the page.)
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
  var limit = Number(input.dataset.maxBytes);
  var tooLarge = Array.prototype.some.call(input.files || [], function (file) {
    return file.size > limit;
  });
  var error = document.getElementById(input.id + "-size-err");
  if (!tooLarge) {
    if (error) error.remove();
    return;
  }
  input.value = "";
  if (!error) {
    error = document.createElement("p");
    error.className = "error";
    error.id = input.id + "-size-err";
    error.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", error);
  }
  error.textContent = input.dataset.tooLarge;
});
