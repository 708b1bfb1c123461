// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form (no inline handlers: CSP).
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
