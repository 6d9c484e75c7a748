import { statusText } from '../panel-model';
import type { ISpend } from '../types';

const spend = (extra: Partial<ISpend> = {}): ISpend => ({
  todayUsd: 1.5,
  monthUsd: 4,
  budgetUsd: null,
  dailyBudgetUsd: null,
  byModel: [],
  ...extra
});

const shown = (value: ISpend): string => statusText(value, 0);

describe('the status bar', () => {
  it('shows this user spend today without a gateway', () => {
    expect(shown(spend())).toBe('Seedance: $1.50 today');
  });

  it('says team and shows the user and the team spend with the gateway', () => {
    const gateway = {
      userTodayUsd: 2,
      userMonthUsd: 3,
      teamTodayUsd: 7.25,
      teamMonthUsd: 20
    };
    expect(shown(spend({ gateway }))).toBe(
      'Seedance (team): you $2.00 · team $7.25 today'
    );
  });

  it('counts running jobs before the team spend', () => {
    const gateway = {
      userTodayUsd: 0,
      userMonthUsd: 0,
      teamTodayUsd: 1,
      teamMonthUsd: 1
    };
    expect(statusText(spend({ gateway }), 2)).toBe(
      'Seedance (team): 2 running · you $0.00 · team $1.00 today'
    );
  });

  it('says the team total is unknown when the gateway did not answer', () => {
    expect(shown(spend({ gateway: null }))).toBe(
      'Seedance (team): you $1.50 · team unknown today'
    );
  });
});
