/**
 * Shows a `%%seedance` cell's prompt as plain text: JupyterLab highlights the whole
 * cell as IPython, so words like `for` and an apostrophe's runaway "string" would
 * colour a natural-language prompt. The lines get a class the stylesheet neutralises.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry,
  type IEditorExtensionFactory
} from '@jupyterlab/codemirror';
import { RangeSetBuilder, type Text } from '@codemirror/state';
import {
  Decoration,
  type DecorationSet,
  type EditorView,
  ViewPlugin,
  type ViewUpdate
} from '@codemirror/view';

import { promptBodyLines } from './magic-body';

/** Editor modes IPython code is shown in (cells of Python kernels, `.ipy` files). */
const IPYTHON_MIMES = new Set(['text/x-ipython', 'text/x-python']);

const promptLine = Decoration.line({ class: 'seedance-prompt-line' });

type EditorModel = IEditorExtensionFactory.IOptions['model'];

function promptLines(doc: Text, mimeType: string): DecorationSet {
  const body = IPYTHON_MIMES.has(mimeType)
    ? promptBodyLines(doc.toString())
    : null;
  if (!body) {
    return Decoration.none;
  }
  const builder = new RangeSetBuilder<Decoration>();
  for (let n = body.first + 1; n <= body.last + 1; n++) {
    const from = doc.line(n).from;
    builder.add(from, from, promptLine);
  }
  return builder.finish();
}

/** Recomputes on edits and when the cell's mode changes (e.g. the kernel's language arrives). */
function promptHighlighter(model: EditorModel) {
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      private _mimeType: string;

      constructor(view: EditorView) {
        this._mimeType = model.mimeType;
        this.decorations = promptLines(view.state.doc, this._mimeType);
      }

      update(update: ViewUpdate): void {
        if (update.docChanged || model.mimeType !== this._mimeType) {
          this._mimeType = model.mimeType;
          this.decorations = promptLines(update.state.doc, this._mimeType);
        }
      }
    },
    { decorations: plugin => plugin.decorations }
  );
}

export const promptHighlightPlugin: JupyterFrontEndPlugin<void> = {
  id: 'seedance-jupyter:prompt-highlight',
  description:
    'Shows the prompt of a %%seedance cell as plain text, not Python.',
  autoStart: true,
  requires: [IEditorExtensionRegistry],
  activate: (_app, registry: IEditorExtensionRegistry) => {
    registry.addExtension({
      name: 'seedance-jupyter:prompt-highlight',
      factory: ({ model }) =>
        EditorExtensionRegistry.createImmutableExtension(
          promptHighlighter(model)
        )
    });
  }
};
