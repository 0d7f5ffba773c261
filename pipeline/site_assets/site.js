// The language switch (Chinese first, remembered) and the register's search. No external requests.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = null;
  try { saved = window.localStorage.getItem("certpipe-lang"); } catch (e) { /* storage off */ }
  if (saved === "zh" || saved === "en") { root.setAttribute("data-lang", saved); }
  function setLang(lang) {
    root.setAttribute("data-lang", lang);
    root.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    try { window.localStorage.setItem("certpipe-lang", lang); } catch (e) { /* storage off */ }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("lang");
    if (button) {
      button.addEventListener("click", function () {
        setLang(root.getAttribute("data-lang") === "zh" ? "en" : "zh");
      });
    }
    var box = document.getElementById("search");
    var list = document.getElementById("results");
    var index = window.CERTPIPE_INDEX || [];
    if (!box || !list) { return; }
    var LIMIT = 50;
    function norm(text) { return String(text || "").toLowerCase().replace(/\s+/g, ""); }
    var keys = index.map(function (c) { return norm(c.number + "|" + c.organisation + "|" + c.credit_code); });
    function show() {
      var q = norm(box.value);
      list.textContent = "";
      var count = document.getElementById("count");
      if (!q) { if (count) { count.hidden = true; } return; }
      var shown = 0;
      for (var i = 0; i < index.length && shown < LIMIT; i++) {
        if (keys[i].indexOf(q) === -1) { continue; }
        var c = index[i];
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "c/" + encodeURIComponent(c.number) + "/";
        a.textContent = c.number;
        li.appendChild(a);
        var org = document.createElement("div");
        org.textContent = c.organisation;
        li.appendChild(org);
        var more = document.createElement("div");
        more.className = "muted";
        ["zh", "en"].forEach(function (lang) {
          var span = document.createElement("span");
          span.className = "l-" + lang;
          span.textContent = c.standard + " · " + c.level[lang] + " · " + c.status_words[lang] + " · " + c.expiry_date;
          more.appendChild(span);
        });
        li.appendChild(more);
        li.setAttribute("data-status", c.status);
        list.appendChild(li);
        shown++;
      }
      if (count) { count.hidden = shown !== 0; }
    }
    box.addEventListener("input", show);
    if (box.value) { show(); }
  });
})();
