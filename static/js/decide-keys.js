// The decide page of the verification queue: Ctrl+Enter (⌘+Enter on a Mac) or Alt+N records the
// decision and opens the next item, from anywhere on the page (the button also has accesskey="n").
(function () {
  "use strict";
  var button = document.getElementById("decide-and-next");
  if (!button) return;
  document.addEventListener("keydown", function (event) {
    var isNext = (event.key === "Enter" && (event.ctrlKey || event.metaKey)) ||
      (event.altKey && !event.ctrlKey && (event.key === "n" || event.key === "N" || event.code === "KeyN"));
    if (!isNext) return;
    event.preventDefault();
    button.form.requestSubmit(button);
  });
})();
