// certpipe console: drag-and-drop upload and the outcome poll. No words here: the server renders them.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var drop = document.getElementById("drop");
  if (form && drop && window.FormData && window.fetch) {
    var send = function (files) {
      var data = new FormData();
      data.append("csrf", form.elements.csrf.value);
      for (var i = 0; i < files.length; i++) { data.append("file", files[i], files[i].name); }
      fetch("/upload", { method: "POST", body: data, credentials: "same-origin" }).then(function (r) {
        if (r.redirected) { window.location = r.url; return; }
        return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
      });
    };
    ["dragenter", "dragover"].forEach(function (e) {
      drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (e) {
      drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (ev) { if (ev.dataTransfer.files.length) { send(ev.dataTransfer.files); } });
  }
  var box = document.getElementById("outcomes-box");
  if (box) {
    var poll = function () {
      var table = document.getElementById("outcomes");
      if (!table || table.getAttribute("data-pending") === "0") { return; }
      fetch(box.getAttribute("data-poll"), { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html) { box.innerHTML = html; }
        window.setTimeout(poll, 2000);
      }, function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 2000);
  }
})();
