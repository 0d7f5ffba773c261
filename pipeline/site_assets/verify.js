// A certificate page opened through its QR link (c/<number>/#<token>): the token's Ed25519 signature
// checked in the browser (WebCrypto) with the public keys in data/keys.js, then its fields compared with
// this page's (the scope by its digest, which the page carries). The words shown are in the page (#check-<result>); this file holds none. Token layout:
// pipeline/core/token.py.
(function () {
  "use strict";
  var DOMAIN = "certpipe-certificate-v1\u0000";
  var SIG = 64;
  var HASH = 8;

  function fromB64url(text) {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) { throw new Error("not base64url"); }
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function day(n) { return new Date(Date.UTC(2000, 0, 1) + n * 86400000).toISOString().slice(0, 10); }

  function parse(raw) {
    if (raw.length < 14 + 5 + SIG || (raw[0] !== 1 && raw[0] !== 2)) { throw new Error("not a token"); }
    var body = raw.slice(0, raw.length - SIG);
    var utf8 = new TextDecoder("utf-8", { fatal: true });
    var at = 14, texts = [];
    for (var k = 0; k < 5; k++) {
      if (at >= body.length) { throw new Error("cut short"); }
      var n = body[at];
      if (at + 1 + n > body.length) { throw new Error("cut short"); }
      texts.push(utf8.decode(body.slice(at + 1, at + 1 + n)));
      at += 1 + n;
    }
    var digests = [null, null];  // version 2: the printed scope's and approval number's digests
    if (raw[0] === 2) {
      if (at + 2 * HASH > body.length) { throw new Error("cut short"); }
      for (var d = 0; d < 2; d++) {
        var digest = hex(body.slice(at, at + HASH));
        digests[d] = /^0+$/.test(digest) ? "" : digest;
        at += HASH;
      }
    }
    if (at !== body.length) { throw new Error("trailing bytes"); }
    return {
      body: body, signature: raw.slice(raw.length - SIG), key_id: hex(body.slice(2, 10)),
      specimen: (body[1] & 1) === 1,
      claims: { number: texts[0], organisation: texts[1], credit_code: texts[2], standard: texts[3],
                level: texts[4], issue_date: day(body[10] * 256 + body[11]),
                expiry_date: day(body[12] * 256 + body[13]), scope_hash: digests[0] }
    };
  }

  function say(result) {
    var boxes = document.querySelectorAll("[data-check]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].hidden = boxes[i].getAttribute("data-check") !== result; }
    var panel = document.getElementById("check");
    if (panel) { panel.className = "check " + result; panel.setAttribute("data-result", result); }
  }

  async function check() {
    var token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!token) { say("none"); return; }
    say("checking");
    var page = JSON.parse(document.getElementById("certificate-data").textContent);
    var parsed;
    try { parsed = parse(fromB64url(token)); } catch (e) { say("forged"); return; }
    var key = (window.CERTPIPE_KEYS || {})[parsed.key_id];
    if (!key) { say("unknown_key"); return; }
    if (!(window.crypto && window.crypto.subtle)) { say("unsupported"); return; }
    var ok;
    try {
      var publicKey = await window.crypto.subtle.importKey("raw", fromB64url(key), { name: "Ed25519" }, false,
                                                          ["verify"]);
      var domain = new TextEncoder().encode(DOMAIN);
      var signed = new Uint8Array(domain.length + parsed.body.length);
      signed.set(domain, 0);
      signed.set(parsed.body, domain.length);
      ok = await window.crypto.subtle.verify({ name: "Ed25519" }, publicKey, parsed.signature, signed);
    } catch (e) { say("unsupported"); return; }
    if (!ok) { say("forged"); return; }
    var fields = ["number", "organisation", "credit_code", "standard", "level", "issue_date", "expiry_date"];
    for (var i = 0; i < fields.length; i++) {
      if (parsed.claims[fields[i]] !== page[fields[i]]) { say("mismatch"); return; }
    }
    // the scope: a version 2 token signs its digest, the page carries the register's (a version 1 token: not signed)
    if (parsed.claims.scope_hash !== null && "scope_hash" in page && parsed.claims.scope_hash !== page.scope_hash) {
      say("mismatch"); return;
    }
    say(parsed.specimen ? "specimen" : "genuine");
  }

  window.addEventListener("hashchange", check);
  document.addEventListener("DOMContentLoaded", check);
})();
