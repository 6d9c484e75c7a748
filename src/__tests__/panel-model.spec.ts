import {
  COMPARE_MAX,
  JobsModel,
  matches,
  notebookLink,
  SCOPES,
  shortLabel,
  spendByUser,
  SHORT_LABEL_CHARS,
  spendView,
  STATUS_FILTERS
} from '../panel-model';
import { job } from './fixtures';

const done = (token: string, createdAt: number, extra = {}) =>
  job({
    clientToken: token,
    requestId: `req_${token}`,
    status: 'succeeded',
    createdAt,
    finishedAt: createdAt + 30,
    localPath: `out/${token}.mp4`,
    ...extra
  });

function model(): JobsModel {
  const m = new JobsModel('/');
  m.applyAll([
    job({
      clientToken: 'a',
      createdAt: 100,
      status: 'queued',
      notebook: 'one.ipynb'
    }),
    done('b', 300, { notebook: 'two.ipynb' }),
    job({
      clientToken: 'c',
      createdAt: 200,
      status: 'failed',
      notebook: 'one.ipynb'
    }),
    job({
      clientToken: 'd',
      createdAt: 400,
      status: 'processing',
      notebook: null
    })
  ]);
  return m;
}

describe('JobsModel: filtering and sorting', () => {
  it('lists newest first', () => {
    expect(
      model()
        .list()
        .map(j => j.clientToken)
    ).toEqual(['d', 'b', 'c', 'a']);
  });

  it('filters by status groups, exact status and notebook', () => {
    const m = model();
    const tokens = (
      status: Parameters<typeof matches>[1]['status'],
      notebook: string | null = null
    ) => m.list({ status, notebook }).map(j => j.clientToken);
    expect(tokens('running')).toEqual(['d', 'a']);
    expect(tokens('finished')).toEqual(['b', 'c']);
    expect(tokens('failed')).toEqual(['c']);
    expect(tokens('all', 'one.ipynb')).toEqual(['c', 'a']);
    expect(tokens('running', 'one.ipynb')).toEqual(['a']);
    expect(tokens('all', 'nowhere.ipynb')).toEqual([]);
  });

  it('groups refused with failed and offers readable labels, no raw states', () => {
    const m = model();
    m.apply(job({ clientToken: 'r', createdAt: 500, status: 'rejected' }));
    m.apply(
      job({ clientToken: 'u', createdAt: 600, status: 'submission_uncertain' })
    );
    const tokens = (status: Parameters<typeof matches>[1]['status']) =>
      m.list({ status, notebook: null }).map(j => j.clientToken);
    expect(tokens('failed')).toEqual(['r', 'c']);
    expect(tokens('uncertain')).toEqual(['u']);
    const labels = STATUS_FILTERS.map(f => f.label);
    expect(labels.every(l => /^[A-Z]/.test(l) && !l.includes('_'))).toBe(true);
  });

  it('shortens a long label in the middle to fit a sidebar', () => {
    expect(shortLabel('short.ipynb')).toBe('short.ipynb');
    const long = shortLabel(
      'a-very-long-folder/and-a-long-notebook-name.ipynb'
    );
    expect(long).toHaveLength(SHORT_LABEL_CHARS);
    expect(long).toBe('a-very-long…k-name.ipynb');
  });

  it('offers each notebook once, sorted, skipping jobs from no notebook', () => {
    expect(model().notebooks()).toEqual(['one.ipynb', 'two.ipynb']);
  });

  it('counts jobs not yet final as running', () => {
    expect(model().running()).toBe(2);
  });
});

describe('JobsModel: applying events', () => {
  it('updates a job in place and signals once', () => {
    const m = model();
    let signals = 0;
    m.changed.connect(() => signals++);
    m.apply(done('a', 100, { notebook: 'one.ipynb' }));
    expect(signals).toBe(1);
    expect(m.size).toBe(4);
    expect(m.get('a')?.status).toBe('succeeded');
    expect(m.running()).toBe(1);
  });

  it('adds a new job at the top', () => {
    const m = model();
    m.apply(
      job({
        clientToken: 'e',
        createdAt: 500,
        status: 'pending',
        requestId: null
      })
    );
    expect(m.list()[0].clientToken).toBe('e');
  });

  it('keeps one entry when a pending job learns its request id', () => {
    const m = new JobsModel('/');
    m.apply(job({ clientToken: 'p', requestId: null, status: 'pending' }));
    m.apply(job({ clientToken: 'p', requestId: 'req_p', status: 'queued' }));
    expect(m.size).toBe(1);
    expect(m.get('p')?.requestId).toBe('req_p');
  });

  it('ignores a late, older snapshot', () => {
    const m = model();
    m.apply(job({ clientToken: 'b', createdAt: 300, status: 'processing' }));
    expect(m.get('b')?.status).toBe('succeeded');
    expect(m.get('b')?.localPath).toBe('out/b.mp4');
  });
});

describe('JobsModel: gallery and compare picks', () => {
  it('plays only succeeded jobs with a source the browser may load', () => {
    const m = model();
    m.apply(
      done('loop', 350, {
        localPath: null,
        outputUrl: 'http://127.0.0.1:9/a.mp4'
      })
    );
    m.apply(
      done('cdn', 360, {
        localPath: null,
        outputUrl: 'https://cdn.example.com/a.mp4'
      })
    );
    expect(m.playable().map(j => j.clientToken)).toEqual(['cdn', 'b']);
  });

  it('picks 2 to 4 playable takes, in pick order', () => {
    const m = new JobsModel('/');
    m.applyAll([1, 2, 3, 4, 5].map(i => done(`t${i}`, i)));
    m.apply(job({ clientToken: 'running', status: 'processing' }));
    expect(m.toggleSelected('running')).toBe(false);
    expect(m.toggleSelected('t3')).toBe(true);
    expect(m.canCompare()).toBe(false);
    expect(m.toggleSelected('t1')).toBe(true);
    expect(m.canCompare()).toBe(true);
    m.toggleSelected('t2');
    m.toggleSelected('t4');
    expect(m.selected()).toHaveLength(COMPARE_MAX);
    expect(m.toggleSelected('t5')).toBe(false);
    expect(m.selected().map(j => j.clientToken)).toEqual([
      't3',
      't1',
      't2',
      't4'
    ]);
    expect(m.toggleSelected('t3')).toBe(true);
    expect(m.isSelected('t3')).toBe(false);
  });
});

describe('spend', () => {
  it('reads against the budgets when they are set', () => {
    expect(
      spendView({
        todayUsd: 1.2,
        monthUsd: 12.5,
        budgetUsd: 10,
        dailyBudgetUsd: 5,
        byModel: []
      })
    ).toEqual({
      today: '$1.20 of $5.00',
      month: '$12.50 of $10.00',
      todayOver: false,
      monthOver: true
    });
  });

  it('reads plainly without budgets', () => {
    expect(
      spendView({
        todayUsd: 0,
        monthUsd: 0.004,
        budgetUsd: null,
        dailyBudgetUsd: null,
        byModel: []
      })
    ).toEqual({
      today: '$0.00',
      month: '$0.004',
      todayOver: false,
      monthOver: false
    });
  });

  it("names each user's month in the team's spend, and nothing without it", () => {
    const base = {
      todayUsd: 1,
      monthUsd: 3.2,
      budgetUsd: null,
      dailyBudgetUsd: null,
      byModel: []
    };
    expect(
      spendByUser({
        ...base,
        byUser: [
          { user: 'alice', monthUsd: 3 },
          { user: 'bob', monthUsd: 0.2 }
        ]
      })
    ).toBe('alice $3.00 · bob $0.20');
    expect(spendByUser(base)).toBe('');
  });

  it('offers Mine first, so the panel starts on this user', () => {
    expect(SCOPES.map(s => s.label)).toEqual(['Mine', 'Team']);
  });

  it('is kept by the model and signals', () => {
    const m = new JobsModel('/');
    let signals = 0;
    m.changed.connect(() => signals++);
    m.setSpend({
      todayUsd: 1,
      monthUsd: 2,
      budgetUsd: null,
      dailyBudgetUsd: null,
      byModel: []
    });
    expect(m.spend?.monthUsd).toBe(2);
    expect(signals).toBe(1);
  });
});

describe('where a job came from', () => {
  it('opens a notebook path, and shows a folder (the root too) in the file browser', () => {
    expect(notebookLink('work/demo.ipynb')).toEqual({
      path: 'work/demo.ipynb',
      label: 'work/demo.ipynb',
      isFolder: false,
      linkable: true
    });
    expect(notebookLink('work/')).toMatchObject({
      path: 'work',
      label: 'work/',
      isFolder: true,
      linkable: true
    });
  });

  it('names a notebook that is gone as missing and does not link it', () => {
    expect(notebookLink('gone.ipynb', false)).toEqual({
      path: 'gone.ipynb',
      label: 'gone.ipynb (no longer there)',
      isFolder: false,
      linkable: false
    });
  });

  it('does not link a folder outside the server root', () => {
    expect(notebookLink('/home/ann/elsewhere').linkable).toBe(false);
  });
});
