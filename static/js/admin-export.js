// The export page's "Select all" toggle, attached here because the CSP blocks inline handlers.
// onSelectToggleChange is defined by import_export/export_selectable_fields.js (the form's media).
document.addEventListener("change", (event) => {
  if (event.target.matches(".select-toggle") && typeof onSelectToggleChange === "function") {
    onSelectToggleChange(event);
  }
});
