/**
 * The Seedance panel's head: the title, the spend against the budgets and, in
 * the team's view, each user's spend this month and what does not update live.
 */
import { Widget } from '@lumino/widgets';

import { el, setText, setVisible } from './dom';
import { MSG } from './messages';
import { spendByUser, spendView } from './panel-model';
import type { ISpend } from './types';

export class PanelHead extends Widget {
  /** `connection`: the panel's line about the event stream, shown last. */
  constructor(connection: HTMLElement) {
    super();
    this.addClass('seedance-panel-head');
    this.node.append(
      el('h2', {}, [MSG.panelTitle]),
      el('dl', { class: 'seedance-spend' }, [
        el('dt', {}, [MSG.today]),
        this._today,
        el('dt', {}, [MSG.month]),
        this._month
      ]),
      this._byUser,
      this._teamNote,
      connection
    );
  }

  /** `team`: the spend is the team's (with `byUser`), not this user's. */
  render(spend: ISpend | null, team: boolean): void {
    const byUser = team && spend ? spendByUser(spend) : '';
    setText(this._byUser, byUser ? `${MSG.spendByUser}: ${byUser}` : '');
    setVisible(this._byUser, byUser !== '');
    setVisible(this._teamNote, team);
    if (!spend) {
      return;
    }
    const view = spendView(spend);
    setText(
      this._today,
      view.todayOver ? `${view.today} (${MSG.overBudget})` : view.today
    );
    setText(
      this._month,
      view.monthOver ? `${view.month} (${MSG.overBudget})` : view.month
    );
    this._today.classList.toggle('seedance-over', view.todayOver);
    this._month.classList.toggle('seedance-over', view.monthOver);
  }

  private readonly _today = el('dd', {}, ['—']);
  private readonly _month = el('dd', {}, ['—']);
  private readonly _byUser = el('p', { class: 'seedance-spend-users' });
  private readonly _teamNote = el('p', { class: 'seedance-note' }, [
    MSG.teamNotLive
  ]);
}
