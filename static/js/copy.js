/* Copy buttons: one on every code block (<pre>) and on every [data-copy] button.
 * Progressive enhancement: without JavaScript the text is still there to select by hand. */
(function () {
  "use strict";

  function selectText(element) {
    if (element.select) {
      element.focus();
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, status, text) {
    if (status) status.textContent = text;
    button.setAttribute("data-state", text.indexOf("Copied") === 0 ? "copied" : "selected");
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.textContent = text.indexOf("Copied") === 0 ? "Copied" : "Selected";
    window.setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-state");
    }, 2000);
  }

  function copy(button, source, status) {
    var text = source.value !== undefined ? source.value : source.textContent;
    function fallback() {
      // No clipboard here (plain HTTP on another host, or permission refused): select it for Ctrl+C.
      selectText(source);
      say(button, status, "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
    }
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      say(button, status, "Copied to the clipboard.");
    }, fallback);
  }

  function addToCodeBlock(pre) {
    if (pre.parentNode.classList.contains("code-block")) return;
    var wrapper = document.createElement("div");
    wrapper.className = "code-block";
    pre.parentNode.insertBefore(wrapper, pre);
    wrapper.appendChild(pre);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", function () {
      copy(button, pre, null);
    });
    wrapper.appendChild(button);
  }

  function wireButton(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy-status") || "");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button, source, status);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("pre"), addToCodeBlock);
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), wireButton);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
