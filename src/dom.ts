/** A tiny element builder: the views are plain DOM, no framework. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  children: (Node | string)[] = []
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') {
      node.className = value;
    } else {
      node.setAttribute(name, value);
    }
  }
  node.append(...children);
  return node;
}

/**
 * A JupyterLab-styled push button (`type="button"`: never submits a form);
 * `variant` is JupyterLab's `jp-mod-warn` or `jp-mod-accept` look.
 */
export function button(
  label?: string,
  variant?: 'warn' | 'accept'
): HTMLButtonElement {
  const mod = variant ? ` jp-mod-${variant}` : '';
  return el(
    'button',
    { class: `jp-Button jp-mod-styled${mod}`, type: 'button' },
    label === undefined ? [] : [label]
  );
}

/** Show or hide without removing (keeps focus order and live regions stable). */
export function setVisible(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}

/** Set text only when it changed, so live regions announce real changes only. */
export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}

/**
 * Children kept by key and updated in place, in the order given: a re-render
 * never rebuilds an element someone is focused on or watching.
 */
export class KeyedChildren<T, V extends { readonly node: HTMLElement }> {
  constructor(
    readonly parent: HTMLElement,
    private readonly _key: (value: T) => string,
    private readonly _create: (value: T) => V
  ) {}

  render(values: readonly T[], update: (view: V, value: T) => void): void {
    const keep = new Set<string>();
    let cursor: ChildNode | null = this.parent.firstChild;
    for (const value of values) {
      const key = this._key(value);
      keep.add(key);
      let view = this._views.get(key);
      if (!view) {
        view = this._create(value);
        this._views.set(key, view);
      }
      update(view, value);
      if (view.node === cursor) {
        cursor = cursor.nextSibling;
      } else {
        this.parent.insertBefore(view.node, cursor);
      }
    }
    for (const [key, view] of this._views) {
      if (!keep.has(key)) {
        view.node.remove();
        this._views.delete(key);
      }
    }
  }

  private readonly _views = new Map<string, V>();
}
