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
  // The visitor's date, YYYY-MM-DD: an issued certificate past its expiry date is expired, whenever the
  // register was last published (its files say "issued" until the next publish).
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }
  function isExpired(status, expiry) {
    return status === "issued" && /^\d{4}-\d{2}-\d{2}$/.test(expiry || "") && expiry < today();
  }
  function expiredWords(lang) {
    var box = document.getElementById("status-expired");
    var span = box && box.querySelector(".l-" + lang);
    return span ? span.textContent : "";
  }
  function markExpired() {
    var status = document.getElementById("status");
    var words = document.getElementById("status-expired");
    if (!status || !words || !isExpired(status.getAttribute("data-status"), status.getAttribute("data-expiry"))) {
      return;
    }
    status.textContent = "";
    for (var i = 0; i < words.childNodes.length; i++) { status.appendChild(words.childNodes[i].cloneNode(true)); }
    status.className = "status bad";
    status.setAttribute("data-status", "expired");
  }

  document.addEventListener("DOMContentLoaded", function () {
    markExpired();
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
        var expired = isExpired(c.status, c.expiry_date);
        ["zh", "en"].forEach(function (lang) {
          var span = document.createElement("span");
          span.className = "l-" + lang;
          var words = expired ? expiredWords(lang) : c.status_words[lang];
          span.textContent = c.standard + " · " + c.level[lang] + " · " + words + " · " + c.expiry_date;
          more.appendChild(span);
        });
        li.appendChild(more);
        li.setAttribute("data-status", expired ? "expired" : c.status);
        list.appendChild(li);
        shown++;
      }
      if (count) { count.hidden = shown !== 0; }
    }
    box.addEventListener("input", show);
    if (box.value) { show(); }
  });
})();
