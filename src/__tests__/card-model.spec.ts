import {
  cancelFailure,
  cardView,
  elapsedSeconds,
  holdBackMedia,
  kernelCancelCode,
  mergeJob,
  referenceViews,
  sameJob
} from '../card-model';
import { ApiError } from '../client';
import { formatAge, formatElapsed, formatParams, formatUsd } from '../format';
import { STATUSES, type Status } from '../types';
import { job } from './fixtures';

const BASE = '/user/ann/';
const created = 1_700_000_000;
const at = (seconds: number): number => (created + seconds) * 1000;

describe('formatting', () => {
  it('formats elapsed time as a clock, as the kernel card does', () => {
    expect([0, 7, 65, 600, 3723, -3].map(formatElapsed)).toEqual([
      '00:00',
      '00:07',
      '01:05',
      '10:00',
      '1:02:03',
      '00:00'
    ]);
  });

  it('formats ages, money and parameters', () => {
    expect([2, 42, 300, 7200, 200000].map(formatAge)).toEqual([
      'just now',
      '42 s ago',
      '5 min ago',
      '2 h ago',
      '2 d ago'
    ]);
    expect([0, 0.004, 0.5, 12].map(formatUsd)).toEqual([
      '$0.00',
      '$0.004',
      '$0.50',
      '$12.00'
    ]);
    expect(formatParams(job())).toBe('seedance-2.0 · 5 s · 720p · 16:9');
    expect(formatParams(job({ duration: null, aspectRatio: null }))).toBe(
      'seedance-2.0 · 720p'
    );
  });
});

describe('elapsed time', () => {
  it('ticks from createdAt to now while the job runs', () => {
    const running = job({ status: 'processing', createdAt: created });
    expect(elapsedSeconds(running, at(12.5))).toBeCloseTo(12.5);
    expect(cardView(running, at(75), BASE).elapsed).toBe('01:15');
    expect(cardView(running, at(75), BASE).ticking).toBe(true);
  });

  it('stops at finishedAt once final, whatever the clock says', () => {
    const done = job({
      status: 'succeeded',
      createdAt: created,
      finishedAt: created + 42
    });
    expect(cardView(done, at(9999), BASE).elapsed).toBe('00:42');
    expect(cardView(done, at(9999), BASE).ticking).toBe(false);
  });

  it('shows no time for a final job that never recorded its end', () => {
    expect(
      cardView(job({ status: 'failed', finishedAt: null }), at(5), BASE).elapsed
    ).toBe('');
  });
});

describe('what the card shows per status', () => {
  const expected: Record<
    Status,
    { progress: boolean; cancel: boolean; ticking: boolean }
  > = {
    pending: { progress: true, cancel: false, ticking: true },
    submission_uncertain: { progress: false, cancel: false, ticking: true },
    queued: { progress: true, cancel: true, ticking: true },
    processing: { progress: true, cancel: true, ticking: true },
    cancelling: { progress: true, cancel: false, ticking: true },
    succeeded: { progress: false, cancel: false, ticking: false },
    failed: { progress: false, cancel: false, ticking: false },
    cancelled: { progress: false, cancel: false, ticking: false },
    rejected: { progress: false, cancel: false, ticking: false }
  };

  it.each(STATUSES)('%s', status => {
    const view = cardView(
      job({ status, finishedAt: created + 1 }),
      at(3),
      BASE
    );
    expect({
      progress: view.showProgress,
      cancel: view.showCancel,
      ticking: view.ticking
    }).toEqual(expected[status]);
  });

  it('has no Cancel without a request id, even when the status allows it', () => {
    expect(
      cardView(job({ status: 'queued', requestId: null }), at(1), BASE)
        .showCancel
    ).toBe(false);
  });

  it('shows the error with its code, the notice and the charge', () => {
    const view = cardView(
      job({
        status: 'failed',
        error: { code: 'internal_error', message: 'Render crashed' },
        notice: 'Budget nearly spent',
        estimatedUsd: 0.75,
        creditsCharged: 64,
        chargeLabel: '64 credits charged'
      }),
      at(1),
      BASE
    );
    expect(view.error).toBe('Render crashed (internal_error)');
    expect(view.notice).toBe('Budget nearly spent');
    expect(view.cost).toBe('64 credits charged');
  });

  it('shows the estimate for an output saved before the charge was worded', () => {
    expect(cardView(job({ estimatedUsd: 0.75 }), at(1), BASE).cost).toBe(
      'est. $0.75'
    );
  });

  it('shows the request id, or nothing before the service gave one', () => {
    expect(cardView(job({ requestId: 'req_9' }), at(1), BASE).requestId).toBe(
      'req_9'
    );
    expect(
      cardView(job({ requestId: null }), at(1), BASE).requestId
    ).toBeNull();
  });

  it('says when a succeeded video could not be saved, until it is', () => {
    const lost = 'The video could not be saved (not a video)';
    const unsaved = job({
      status: 'succeeded',
      localPath: null,
      saveError: lost
    });
    expect(cardView(unsaved, at(1), BASE).error).toBe(lost);
    expect(
      cardView({ ...unsaved, localPath: 'v/req.mp4' }, at(1), BASE).error
    ).toBeNull();
  });

  it('falls back to the status word when the label is empty', () => {
    expect(
      cardView(
        job({ status: 'submission_uncertain', statusLabel: '' }),
        at(1),
        BASE
      ).statusLabel
    ).toBe('submission uncertain');
  });
});

describe('the video in the card', () => {
  it('plays the downloaded copy through files/, names it, and uses the poster', () => {
    const view = cardView(
      job({
        status: 'succeeded',
        localPath: 'seedance outputs/req 1.mp4',
        outputUrl: 'https://cdn.example.com/req_1.mp4',
        posterDataUri: 'data:image/png;base64,AAAA'
      }),
      at(1),
      BASE
    );
    expect(view.video).toEqual({
      src: '/user/ann/files/seedance%20outputs/req%201.mp4',
      label: 'Generated video: A paper boat'
    });
    expect(view.poster).toBe('data:image/png;base64,AAAA');
    expect(view.videoNote).toBeNull();
  });

  it('uses an https output URL when nothing was downloaded', () => {
    const view = cardView(
      job({ status: 'succeeded', outputUrl: 'https://cdn.example.com/a.mp4' }),
      at(1),
      BASE
    );
    expect(view.video?.src).toBe('https://cdn.example.com/a.mp4');
  });

  it.each([
    'http://127.0.0.1:8123/videos/req_1.mp4',
    'http://localhost:8000/a.mp4',
    'https://localhost/a.mp4',
    'https://127.0.0.1/a.mp4',
    'https://[::1]/a.mp4',
    'http://cdn.example.com/a.mp4',
    'javascript:alert(1)'
  ])('never plays %s, and says the video is not here yet', outputUrl => {
    const view = cardView(job({ status: 'succeeded', outputUrl }), at(1), BASE);
    expect(view.video).toBeNull();
    expect(view.videoNote).not.toBeNull();
  });

  it('shows no video before success, even when a path is known', () => {
    const view = cardView(
      job({ status: 'processing', localPath: 'a.mp4' }),
      at(1),
      BASE
    );
    expect(view.video).toBeNull();
    expect(view.videoNote).toBeNull();
  });

  it('refuses posters that would make the page fetch something', () => {
    const remote = job({ posterDataUri: 'https://tracker.example.com/p.png' });
    const svg = job({ posterDataUri: 'data:image/svg+xml;base64,AAAA' });
    expect(cardView(remote, at(1), BASE).poster).toBeNull();
    expect(cardView(svg, at(1), BASE).poster).toBeNull();
  });
});

describe('an untrusted output', () => {
  const remote = 'https://tracker.example.com/v.mp4?who=1';
  const saved = job({
    status: 'succeeded',
    outputUrl: remote,
    posterDataUri: 'data:image/png;base64,AAAA'
  });

  it('holds its remote video back: poster only, and an offer naming the host', () => {
    const held = holdBackMedia(saved);
    const view = cardView(held.job, at(1), BASE, {
      known: false,
      heldBack: held.heldBack
    });
    expect(view.video).toBeNull();
    expect(view.poster).toBe('data:image/png;base64,AAAA');
    expect(view.remote).toEqual({ url: remote, host: 'tracker.example.com' });
    expect(view.videoNote).toContain('tracker.example.com');
  });

  it('plays the server’s own file once the server knows the job', () => {
    const held = holdBackMedia(saved);
    const current = mergeJob(
      held.job,
      job({ status: 'succeeded', localPath: 'project/v.mp4' })
    );
    const view = cardView(current, at(1), BASE, {
      known: true,
      heldBack: held.heldBack
    });
    expect(view.video?.src).toBe('/user/ann/files/project/v.mp4');
    expect(view.remote).toBeNull();
  });

  it('offers nothing for a URL the card would never play anyway', () => {
    const held = holdBackMedia(
      job({ status: 'succeeded', outputUrl: 'http://x/a.mp4' })
    );
    expect(held.heldBack).toBeNull();
    expect(held.job.outputUrl).toBeNull();
  });
});

describe('Cancel', () => {
  it('is not offered before the server has answered for the job', () => {
    const running = job({ status: 'processing' });
    const context = { known: false, heldBack: null };
    expect(cardView(running, at(1), BASE, context).showCancel).toBe(false);
    expect(
      cardView(running, at(1), BASE, { ...context, known: true }).showCancel
    ).toBe(true);
  });
});

describe('merging snapshots', () => {
  it('never moves a status backwards', () => {
    const done = job({ status: 'succeeded', localPath: 'a.mp4' });
    expect(mergeJob(done, job({ status: 'processing' }))).toBe(done);
  });

  it('takes a newer status and keeps filled-in fields the newer snapshot lacks', () => {
    const merged = mergeJob(
      job({
        status: 'succeeded',
        localPath: 'a.mp4',
        posterDataUri: 'data:image/png;base64,A'
      }),
      job({
        status: 'succeeded',
        localPath: null,
        posterDataUri: null,
        notice: 'n'
      })
    );
    expect(merged.localPath).toBe('a.mp4');
    expect(merged.posterDataUri).toBe('data:image/png;base64,A');
    expect(merged.notice).toBe('n');
    expect(
      mergeJob(job({ status: 'queued' }), job({ status: 'processing' })).status
    ).toBe('processing');
  });

  it('learns the request id of a job first known by its client token', () => {
    const pending = job({ requestId: null, status: 'pending' });
    const queued = job({ requestId: 'req_7', status: 'queued' });
    expect(sameJob(pending, queued)).toBe(true);
    expect(mergeJob(pending, queued).requestId).toBe('req_7');
    expect(
      sameJob(job({ requestId: 'req_1' }), job({ requestId: 'req_2' }))
    ).toBe(false);
  });
});

describe('a cancel that did not go through', () => {
  const otherService = new ApiError(
    'other_service',
    'Job req_1 belongs to https://elsewhere.example, not to the service this server talks to (emulator:embedded), so this server cannot cancel it.',
    409
  );

  it('says why, and how to cancel from the notebook, while the job still runs', () => {
    const text = cancelFailure(
      otherService,
      job({ status: 'processing' }),
      'req_1'
    );
    expect(text).toContain('so this server cannot cancel it');
    expect(text).toContain('%seedance cancel req_1');
  });

  it('says so too when the server did not answer at all', () => {
    const text = cancelFailure(new TypeError('Failed to fetch'), null, 'req_1');
    expect(text).toContain('Failed to fetch');
    expect(text).toContain('%seedance cancel req_1');
  });

  it('says nothing when the job finished meanwhile (its state says how)', () => {
    const finished = new ApiError('conflict', 'already succeeded', 409);
    expect(
      cancelFailure(finished, job({ status: 'succeeded' }), 'req_1')
    ).toBeNull();
  });

  it('puts only plain request ids into kernel code', () => {
    expect(kernelCancelCode('req_1a-2.b')).toBe('%seedance cancel req_1a-2.b');
    for (const id of [
      'req_1\nimport os',
      'req_{x}',
      '$HOME',
      'a b',
      '',
      '..'
    ]) {
      expect(kernelCancelCode(id)).toBeNull();
    }
  });
});

describe('reference media on the card', () => {
  const thumb = 'data:image/jpeg;base64,/9j/4AAQSkZJRg==';

  it('shows an image made here as its inline thumbnail, named by its label', () => {
    const refs = referenceViews(
      job({
        mediaRefs: [
          {
            name: 'frame.png',
            kind: 'image',
            sha256: 'ab',
            where: 'loopback',
            thumbnail: thumb
          }
        ]
      })
    );
    expect(refs).toEqual([{ label: 'image frame.png', thumbnail: thumb }]);
  });

  it('never shows a remote address as a thumbnail, only the kind and name', () => {
    const refs = referenceViews(
      job({
        mediaRefs: [
          {
            name: 'clip.mp4',
            kind: 'video',
            sha256: 'cd',
            where: 's3://b/p/',
            thumbnail: 'https://evil.example/x.jpg'
          }
        ]
      })
    );
    expect(refs).toEqual([{ label: 'video clip.mp4', thumbnail: null }]);
  });

  it('shows nothing for a job from a server without reference details', () => {
    expect(referenceViews(job({ mediaRefs: undefined }))).toEqual([]);
  });
});
