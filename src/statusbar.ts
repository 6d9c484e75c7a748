/** The status-bar item: jobs running and today's spend; a click opens the panel. */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { el, setText } from './dom';
import { formatUsd } from './format';
import { MSG } from './messages';
import type { JobsModel } from './panel-model';

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
    const today = formatUsd(this._model.spend?.todayUsd ?? 0);
    setText(this._button, MSG.statusBar(this._model.running(), today));
  }

  private readonly _button = el('button', {
    class: 'seedance-status-button',
    type: 'button',
    title: MSG.statusBarTitle
  });
}
