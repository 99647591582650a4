/* 印刷する buttons on the stand-alone print pages: the Content-Security-Policy refuses inline
   handlers (onclick), so a button only says data-print and this listener prints. */
document.addEventListener("click", function (e) {
  if (e.target instanceof Element && e.target.closest("[data-print]")) { window.print(); }
});
