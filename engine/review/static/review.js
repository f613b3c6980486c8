// Live weighted-length counter for the review page. An approximation of X's twitter-text
// v3 weighting (links 23; code points outside Latin and general punctuation 2); the
// server checks the real weighting on every edit and approval.
"use strict";
(function () {
  var URL = /https?:\/\/[^\s]+/g;
  function weight(cp) {
    var light = cp <= 4351 || (cp >= 8192 && cp <= 8205) || (cp >= 8208 && cp <= 8223) ||
      (cp >= 8242 && cp <= 8247);
    return light ? 1 : 2;
  }
  function weightedLength(text) {
    var length = 0;
    var rest = text.replace(/\r\n/g, "\n").normalize("NFC").replace(URL, function () {
      length += 23;
      return "";
    });
    for (var ch of rest) length += weight(ch.codePointAt(0));
    return length;
  }
  function update(area) {
    var counter = document.getElementById(area.dataset.counter);
    if (!counter) return;
    var limit = parseInt(area.dataset.limit, 10);
    var length = weightedLength(area.value);
    counter.textContent = String(length);
    counter.parentNode.classList.toggle("over", length > limit);
  }
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    update(area);
    area.addEventListener("input", function () { update(area); });
  });
})();
