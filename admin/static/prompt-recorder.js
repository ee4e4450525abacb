// Record a prompt in the browser (MediaRecorder) and send it through the page's own upload
// form, CSRF token included. Without JavaScript or a microphone the form still uploads files.
(function () {
  "use strict";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    return;
  }

  function setUp(form) {
    var recorder = form.querySelector(".recorder");
    var recordButton = form.querySelector(".record");
    var stopButton = form.querySelector(".stop");
    var status = form.querySelector(".recorder-status");
    var input = form.querySelector('input[type="file"]');
    var maxMs = (parseFloat(form.dataset.maxSeconds) || 60) * 1000;
    var media = null;
    var timer = null;

    function send(chunks, type) {
      var blob = new Blob(chunks, { type: type || "audio/webm" });
      var extension = /ogg/.test(blob.type) ? "ogg" : /mp4/.test(blob.type) ? "m4a" : "webm";
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], "ghi-am-trinh-duyet." + extension, { type: blob.type }));
      input.files = transfer.files;
      status.textContent = form.dataset.sending;
      form.submit();
    }

    recordButton.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var chunks = [];
        media = new MediaRecorder(stream);
        media.addEventListener("dataavailable", function (event) {
          if (event.data && event.data.size) { chunks.push(event.data); }
        });
        media.addEventListener("stop", function () {
          clearTimeout(timer);
          stream.getTracks().forEach(function (track) { track.stop(); });
          send(chunks, media.mimeType);
        });
        media.start();
        timer = setTimeout(function () { media.stop(); }, maxMs);
        recordButton.hidden = true;
        stopButton.hidden = false;
        status.textContent = form.dataset.recording;
      }, function () {
        status.textContent = form.dataset.denied;
      });
    });

    stopButton.addEventListener("click", function () {
      stopButton.disabled = true;
      if (media && media.state !== "inactive") { media.stop(); }
    });

    recorder.hidden = false;
  }

  document.querySelectorAll("form.recording").forEach(setUp);
})();
