/** The status-bar item: jobs running and today's spend (with the team gateway: the user's
 * and the team's); a click opens the panel. */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { el, setText } from './dom';
import { MSG } from './messages';
import { type JobsModel, statusText } from './panel-model';

export class SeedanceStatus extends Widget {
  constructor(
    private readonly _model: JobsModel,
    onClick: () => void
  ) {
    super();
    this.addClass('seedance-status-item');
    this._button.addEventListener('click', onClick);
    this.node.append(this._button);
    _model.changed.connect(this._render, this);
    this._render();
  }

  override dispose(): void {
    Signal.clearData(this);
    super.dispose();
  }

  private _render(): void {
    setText(this._button, statusText(this._model.spend, this._model.running()));
  }

  private readonly _button = el('button', {
    class: 'seedance-status-button',
    type: 'button',
    title: MSG.statusBarTitle
  });
}
