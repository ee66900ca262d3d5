// The seat sheet's print button (the CSP allows no inline script); without JavaScript the
// browser's own print command does the same.
const button = document.getElementById("print-sheet");
if (button) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
