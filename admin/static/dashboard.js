// The dashboard's live figures: re-read /dashboard/live and update the page in place.
// Without this script the page still shows everything as of its loading.
(function () {
  "use strict";
  // On a phone the chart scrolls in its frame: show the latest days first.
  document.querySelectorAll(".chart-frame").forEach(function (frame) {
    frame.scrollLeft = frame.scrollWidth;
  });
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) { return; }
  var lang = document.documentElement.lang || "vi";
  var numbers = new Intl.NumberFormat(lang);
  var last = Date.now();
  var busy = false;

  function interval() {  // seconds, read each time: a test or a slow link may change it
    var seconds = parseFloat(root.getAttribute("data-interval"));
    return (isFinite(seconds) && seconds > 0 ? seconds : 10) * 1000;
  }

  function setText(selector, text) {
    document.querySelectorAll(selector).forEach(function (el) { el.textContent = text; });
  }

  function show(data) {
    Object.keys(data.totals).forEach(function (key) {
      setText('[data-figure="' + key + '"]', numbers.format(data.totals[key]));
    });
    var urgent = data.totals.urgent > 0;
    document.querySelectorAll('[data-tile="urgent"]').forEach(function (el) {
      el.classList.toggle("alert", urgent);
    });
    document.querySelectorAll("[data-urgent-note]").forEach(function (el) { el.hidden = !urgent; });
    data.trunks.forEach(function (trunk) {
      var limit = trunk.max_channels === null ? "–" : trunk.max_channels;
      setText('[data-trunk="' + CSS.escape(trunk.name) + '"]', trunk.live + " / " + limit);
      document.querySelectorAll('[data-trunk-meter="' + CSS.escape(trunk.name) + '"]')
        .forEach(function (meter) {
          meter.max = trunk.max_channels || trunk.live || 1;
          meter.value = trunk.live;
        });
    });
    document.querySelectorAll("[data-campaign-status]").forEach(function (el) {
      el.textContent = data.status;
      el.classList.toggle("paused", data.paused === true);
    });
    setText("[data-generated]", data.generated_at.slice(11, 19));
  }

  function refresh() {
    busy = true;
    fetch(root.getAttribute("data-live-url"), {credentials: "same-origin",
                                               headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(show)
      .catch(function () { /* signed out or offline: keep the last figures */ })
      .then(function () { busy = false; last = Date.now(); });
  }

  window.setInterval(function () {
    if (!busy && !document.hidden && Date.now() - last >= interval()) { refresh(); }
  }, 250);
}());
