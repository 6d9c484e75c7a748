// The form's keyboard and accessibility, in every front end that runs ipywidgets.
// Loaded by keyboard.py (anywidget); it acts on the nearest `.seedance-form` around it.

const FORM = '.seedance-form';
const TOGGLE = '.widget-toggle-button';
// ipywidgets 8 names it jupyter-widget-Collapse-header, 7 p-/lm-Collapse-header.
const HEADER = '[class*="Collapse-header"]';
const SEARCH_FRAMES = 600;

// Pressed state of the toggle buttons, a keyboard-operable Advanced header, no icon
// glyphs (Font Awesome's private-use characters) in any accessible name.
function label(form) {
  for (const button of form.querySelectorAll(TOGGLE)) {
    button.setAttribute('aria-pressed', String(button.classList.contains('mod-active')));
  }
  for (const header of form.querySelectorAll(HEADER)) {
    const open = /Collapse-open/.test(header.parentElement.className);
    header.tabIndex = 0;
    header.setAttribute('role', 'button');
    header.setAttribute('aria-expanded', String(open));
  }
  for (const icon of form.querySelectorAll('i.fa')) {
    icon.setAttribute('aria-hidden', 'true');
  }
}

// JupyterLab and Notebook 7 read shortcuts from keydown events bubbling to the
// document: arrows move the cell selection, `m` makes a Markdown cell. ipywidgets
// stops them for its text fields only; here every key without Ctrl/Cmd stays in the form.
function keepKeys(form) {
  form.addEventListener('keydown', event => {
    if (event.ctrlKey || event.metaKey) {
      return;
    }
    const header = event.target.closest(HEADER);
    if (header && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      header.click();
    }
    event.stopPropagation();
  });
}

// A focused button that gets disabled (Submit while the request is sent) drops the
// focus to the page (on the next frame); it comes back to it once it is enabled
// again, if it went nowhere else meanwhile.
function keepFocus(form) {
  let last = null;
  let dropped = null;
  form.addEventListener('focusin', event => {
    last = event.target;
    dropped = null;
  });
  const nowhere = () =>
    document.activeElement === null || document.activeElement === document.body;
  return mutations => {
    for (const { target, attributeName } of mutations) {
      if (attributeName !== 'disabled' || target !== last) {
        continue;
      }
      if (target.disabled && (document.activeElement === target || nowhere())) {
        dropped = target;
      } else if (!target.disabled && target === dropped && nowhere()) {
        dropped = null;
        target.focus();
      }
    }
  };
}

function guard(form) {
  if (form.dataset.seedanceKeys) {
    return;
  }
  form.dataset.seedanceKeys = 'on';
  keepKeys(form);
  const focus = keepFocus(form);
  label(form);
  new MutationObserver(mutations => {
    label(form);
    focus(mutations);
  }).observe(form, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['class', 'disabled']
  });
}

// The view is rendered before the form puts it in the page: look for the form a while.
function render({ el }) {
  let frames = 0;
  const find = () => {
    const form = el.closest(FORM);
    if (form) {
      guard(form);
    } else if (frames++ < SEARCH_FRAMES) {
      requestAnimationFrame(find);
    }
  };
  find();
}

export default { render };
