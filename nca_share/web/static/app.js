// Small progressive enhancement only; every page works without it.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the first invalid field so keyboard and screen-reader users land on it.
  var firstError = document.querySelector("[aria-invalid='true']");
  if (firstError) { firstError.focus(); }
  // Copy buttons for secrets shown once (tokens, TOTP secret).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
    });
  });
});
