// The upload form: while the files are sent and read, show how far the server has got.
// The page polls the upload's progress key; the server answers from the reading itself.
(function () {
  "use strict";
  var form = document.querySelector("form.upload[data-progress-url]");
  var box = document.getElementById("upload-progress");
  if (!form || !box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  var url = form.getAttribute("data-progress-url");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? String(values[key]) : whole;
    });
  }

  function show(state) {
    if (state.state === "reading" && state.total > 0) {
      bar.max = state.total;
      bar.value = state.done;
      text.textContent = fill(box.getAttribute("data-reading"), state);
    } else if (state.state === "done") {
      bar.removeAttribute("value");
      text.textContent = box.getAttribute("data-finishing");
    }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {state: "waiting"}; })
      .then(function (state) { show(state); window.setTimeout(poll, 700); })
      .catch(function () { window.setTimeout(poll, 1500); });
  }

  form.addEventListener("submit", function () {
    box.hidden = false;
    bar.removeAttribute("value");
    text.textContent = box.getAttribute("data-sending");
    var button = form.querySelector("button[type=submit]");
    window.setTimeout(function () { button.disabled = true; }, 0);
    window.setTimeout(poll, 400);
  });
}());
