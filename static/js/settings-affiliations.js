// The settings page's "Use the suggested list": fills the list of groups with the suggested ones
// in the page's language (the server hands them over in the button's data). The form works
// without this script; nothing is stored until the organiser saves.

const button = document.getElementById("affiliations-suggest");
const field = document.getElementById("affiliations-list");

if (button && field) {
  button.hidden = false;
  button.addEventListener("click", () => {
    field.value = button.dataset.lines;
    field.focus();
  });
}
