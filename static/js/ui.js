/* Small behaviours of every page, without a framework: the header menu as one button on
   narrow screens, and the directory's filter panel that gives the results the first screen. */
(function () {
  "use strict";
  // Header menu: the button appears only with JavaScript; without it the links stay listed.
  var header = document.querySelector(".site-header");
  var toggle = header && header.querySelector(".menu-toggle");
  if (toggle) {
    header.classList.add("js-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && header.classList.contains("open")) {
        header.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  // Directory filters: open beside the results on wide screens, folded above them on phones,
  // and folded again after 探す so that the new results are what the user sees.
  var panel = document.getElementById("filter-panel");
  var results = document.getElementById("results");
  if (panel && results) {
    var phoneWidth = window.matchMedia("(max-width: 900px)");
    if (phoneWidth.matches) { panel.open = false; }
    var submitted = false;
    panel.addEventListener("submit", function () { submitted = true; });
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target !== results || !submitted) { return; }
      submitted = false;
      if (phoneWidth.matches) {
        panel.open = false;
        results.scrollIntoView({ block: "start" });
      }
      results.classList.remove("updated");
      void results.offsetWidth; // restart the highlight
      results.classList.add("updated");
    });
  }
})();
