// The periodic task form (django-celery-beat): under the crontab field, the chosen schedule in words
// ("Translation: At 08:00 AM"), as the package's inline script did before the site's CSP blocked it
// (templates/admin/djcelery/change_periodictask_form.html). Words are set as text, never as HTML.
(function () {
  "use strict";
  var data = document.getElementById("readable-crontabs");
  var select = document.getElementById("id_crontab");
  var help = document.querySelector(".field-crontab .help");
  if (!data || !select || !help) return;
  var readable = JSON.parse(data.textContent);
  var labelData = document.getElementById("crontab-translation-label");
  var label = labelData ? JSON.parse(labelData.textContent) : "Translation";
  var line = document.createElement("div");
  line.className = "crontab-translation";
  help.appendChild(line);
  // The read-only "Crontab translation" row says the same thing, for the saved schedule only.
  var savedRow = document.querySelector(".field-crontab_translation");
  if (savedRow) savedRow.style.display = "none";

  function show() {
    var words = readable[select.value];
    line.textContent = words ? label + ": " + words : "";
  }
  select.addEventListener("change", show);
  show();
})();
