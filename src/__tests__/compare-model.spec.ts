import {
  MAX_DRIFT_S,
  SNAP_DRIFT_S,
  SyncGroup,
  type IPlayer
} from '../compare-model';

/** A video element's timing, advanced by hand: `advance(dt)` plays dt seconds at its rate. */
class FakePlayer implements IPlayer {
  constructor(public duration: number) {}
  currentTime = 0;
  playbackRate = 1;
  paused = true;
  plays = 0;
  play(): void {
    this.paused = false;
    this.plays++;
  }
  pause(): void {
    this.paused = true;
  }
  advance(dt: number, speedError = 0): void {
    if (!this.paused) {
      this.currentTime = Math.min(
        this.duration,
        this.currentTime + dt * this.playbackRate * (1 + speedError)
      );
      if (this.currentTime >= this.duration) {
        this.paused = true;
      }
    }
  }
}

describe('SyncGroup', () => {
  it('takes the longest video as the clock', () => {
    const a = new FakePlayer(5);
    const b = new FakePlayer(10);
    const group = new SyncGroup([a, b, new FakePlayer(NaN)]);
    expect(group.master).toBe(b);
    expect(group.duration).toBe(10);
  });

  it('a seek on the bar sets every currentTime, shorter videos parking at their end', () => {
    const players = [new FakePlayer(10), new FakePlayer(8), new FakePlayer(4)];
    const group = new SyncGroup(players);
    group.seek(6.5);
    expect(players.map(p => p.currentTime)).toEqual([6.5, 6.5, 4]);
    group.seek(99);
    expect(players.map(p => p.currentTime)).toEqual([10, 8, 4]);
    group.seek(-3);
    expect(players.map(p => p.currentTime)).toEqual([0, 0, 0]);
  });

  it('play starts only the videos that still have frames at the current time', async () => {
    const players = [new FakePlayer(10), new FakePlayer(4)];
    const group = new SyncGroup(players);
    group.seek(5);
    await group.play();
    expect(players.map(p => p.paused)).toEqual([false, true]);
    group.pause();
    expect(players.every(p => p.paused)).toBe(true);
  });

  it('plays again from the start once the clock has reached its end', async () => {
    const players = [new FakePlayer(10), new FakePlayer(6)];
    const group = new SyncGroup(players);
    group.seek(10);
    await group.play();
    expect(players.map(p => p.currentTime)).toEqual([0, 0]);
    expect(players.every(p => !p.paused)).toBe(true);
  });

  it('snaps a follower that drifted beyond the snap threshold', () => {
    const master = new FakePlayer(10);
    const follower = new FakePlayer(10);
    const group = new SyncGroup([master, follower]);
    master.currentTime = 3;
    follower.currentTime = 3 + SNAP_DRIFT_S + 0.02;
    expect(group.correct()).toBe(1);
    expect(follower.currentTime).toBe(3);
    expect(follower.playbackRate).toBe(1);
  });

  it('nudges the speed for a small drift instead of seeking', async () => {
    const master = new FakePlayer(10);
    const ahead = new FakePlayer(9);
    const behind = new FakePlayer(9);
    const group = new SyncGroup([master, ahead, behind]);
    await group.play();
    master.currentTime = 2;
    ahead.currentTime = 2.03;
    behind.currentTime = 1.97;
    expect(group.correct()).toBe(0);
    expect(ahead.playbackRate).toBeLessThan(1);
    expect(behind.playbackRate).toBeGreaterThan(1);
    expect(ahead.currentTime).toBe(2.03);
  });

  it('keeps followers within MAX_DRIFT_S over a long run of uneven playback', async () => {
    const master = new FakePlayer(15);
    const fast = new FakePlayer(15);
    const slow = new FakePlayer(12);
    const group = new SyncGroup([fast, master, slow]);
    await group.play();
    let worst = 0;
    for (let frame = 0; frame < 60 * 14; frame++) {
      master.advance(1 / 60);
      fast.advance(1 / 60, 0.05);
      slow.advance(1 / 60, -0.07);
      // A stall now and then, as when a video buffers.
      if (frame % 200 === 100) {
        slow.currentTime -= 0.3;
      }
      group.correct();
      for (const p of [fast, slow]) {
        worst = Math.max(
          worst,
          Math.abs(p.currentTime - Math.min(master.currentTime, p.duration))
        );
      }
    }
    expect(worst).toBeLessThanOrEqual(MAX_DRIFT_S);
    expect(slow.currentTime).toBe(12);
  });

  it('restarts a follower that paused (buffering) while the clock runs', async () => {
    const master = new FakePlayer(10);
    const follower = new FakePlayer(10);
    const group = new SyncGroup([master, follower]);
    await group.play();
    follower.pause();
    group.correct();
    expect(follower.paused).toBe(false);
  });
});
