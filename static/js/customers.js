/* Customers pages: small keyboard and feedback helpers. Everything works without this file. */
(function () {
  "use strict";

  // "/" jumps to the customer search box (as on many sites), unless the user is typing.
  var search = document.querySelector("[data-search-shortcut]");
  if (search) {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    });
  }

  // Forms marked data-busy-text say they are working and cannot be sent twice.
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      var status = form.querySelector("[data-busy-status]");
      if (button) {
        button.disabled = true;
        button.textContent = form.getAttribute("data-busy-text");
      }
      if (status) {
        status.hidden = false;
      }
    });
  });
})();
