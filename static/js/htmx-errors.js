// Errors that htmx would otherwise drop (issue 9 §2).
//
// htmx swaps only 2xx answers by default, so a refused vacancy update (満床 with 3 beds) or a
// refused question (a phone number in the text) showed nothing, and the user believed it was
// saved. The views answer an htmx request that they refuse with the same partial, carrying
// the Japanese message, and a 4xx status: that partial is swapped in like a success.
// Anything else (a whole page, plain text, JSON, a 5xx, no answer at all) puts a visible
// message beside the form instead, as text (never as HTML).
(function () {
  "use strict";

  var NETWORK = "通信できませんでした。接続を確かめて、もう一度お試しください（入力した内容はまだ保存されていません）。";
  var SERVER = "サーバーでエラーが発生しました。時間をおいてもう一度お試しください（入力した内容は保存されていない可能性があります）。";

  // The message goes after the form, or after the list row that holds it (a row of the
  // attendance list is a narrow flex line on a phone).
  function anchor(elt) {
    var form = (elt && elt.closest && elt.closest("form")) || elt;
    var row = form && form.parentElement && form.parentElement.closest("li");
    return row || form;
  }

  function clear(elt) {
    var at = anchor(elt);
    var next = at && at.nextElementSibling;
    if (next && next.classList.contains("htmx-error")) next.remove();
  }

  function show(elt, text) {
    var at = anchor(elt);
    if (!at || !at.parentNode) return;
    clear(elt);
    var box = document.createElement(at.tagName === "LI" ? "li" : "p");
    box.className = "notice error htmx-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    at.parentNode.insertBefore(box, at.nextSibling);
  }

  function messageOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    var text = "";
    try {
      if (type.indexOf("json") !== -1) {
        text = JSON.parse(body).detail || "";
      } else if (type.indexOf("text/html") !== -1) {
        var doc = new DOMParser().parseFromString(body, "text/html");
        var parts = doc.querySelectorAll("main h1, main p, .errorlist li, [role=alert]");
        text = Array.prototype.slice.call(parts, 0, 2).map(function (n) {
          return n.textContent.trim();
        }).join(" ");
      } else {
        text = body.trim();
      }
    } catch (e) {
      text = "";
    }
    text = String(text).slice(0, 300);
    return text || "送信できませんでした（エラー " + xhr.status + "）。";
  }

  function isPartial(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    return type.indexOf("text/html") === 0 && !/<html[\s>]/i.test(xhr.responseText || "");
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    if (xhr.status < 400) {
      clear(elt);
      return;
    }
    if (xhr.status < 500 && isPartial(xhr)) {
      // The form again, with the server's message beside the field in error.
      clear(elt);
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      return;
    }
    event.detail.shouldSwap = false;
    show(elt, xhr.status >= 500 ? SERVER : messageOf(xhr));
  });

  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt, NETWORK);
  });
  document.addEventListener("htmx:timeout", function (event) {
    show(event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt, NETWORK);
  });
})();
