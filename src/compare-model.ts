/**
 * Keeping 2–4 videos in step. One bar drives them all: the longest video is the
 * clock, the others follow it within MAX_DRIFT_S. Written against a minimal
 * player interface (HTMLVideoElement fits it) so the rules run without a DOM.
 */

export interface IPlayer {
  currentTime: number;
  playbackRate: number;
  readonly duration: number;
  readonly paused: boolean;
  play(): Promise<void> | void;
  pause(): void;
}

/** The promise: followers stay within this of the clock. */
export const MAX_DRIFT_S = 0.1;
/** Beyond this a follower jumps (a seek); below it, it catches up by speed, which does not stall. */
export const SNAP_DRIFT_S = 0.05;
/** Close enough: play at normal speed. */
export const SETTLED_DRIFT_S = 0.01;
/** The largest speed change used to catch up (±8 %), small enough not to be heard as pitch. */
export const MAX_RATE_NUDGE = 0.08;

function finite(n: number): number | null {
  return Number.isFinite(n) && n > 0 ? n : null;
}

export class SyncGroup {
  constructor(readonly players: readonly IPlayer[]) {
    if (players.length === 0) {
      throw new Error('A sync group needs at least one player');
    }
  }

  /** The clock: the longest video once durations are known, else the first. */
  get master(): IPlayer {
    let best = this.players[0];
    for (const p of this.players) {
      if ((finite(p.duration) ?? 0) > (finite(best.duration) ?? 0)) {
        best = p;
      }
    }
    return best;
  }

  get time(): number {
    return this.master.currentTime;
  }

  /** NaN until the master's metadata has loaded. */
  get duration(): number {
    return this.master.duration;
  }

  get paused(): boolean {
    return this.master.paused;
  }

  /** Put every player at `seconds` (a shorter video parks on its last frame). */
  seek(seconds: number): void {
    const end = finite(this.duration);
    const t = Math.max(0, end === null ? seconds : Math.min(seconds, end));
    for (const p of this.players) {
      p.currentTime = this._target(p, t);
      p.playbackRate = 1;
    }
  }

  /** Play from the bar's position, or from the start when the clock has run out. */
  async play(): Promise<void> {
    const end = finite(this.duration);
    const t = end !== null && this.time >= end ? 0 : this.time;
    this.seek(t);
    await Promise.all(
      this.players
        .filter(p => this._hasFrames(p, t))
        .map(p => Promise.resolve(p.play()))
    );
  }

  /** Pause all, then line the followers up exactly on the master's frame. */
  pause(): void {
    for (const p of this.players) {
      p.pause();
    }
    this.seek(this.time);
  }

  /**
   * One step of drift correction (call it every frame while playing). Returns
   * how many followers were corrected by a seek.
   */
  correct(): number {
    const master = this.master;
    const t = master.currentTime;
    let seeks = 0;
    for (const p of this.players) {
      if (p === master) {
        continue;
      }
      const target = this._target(p, t);
      const drift = p.currentTime - target;
      if (Math.abs(drift) > SNAP_DRIFT_S) {
        p.currentTime = target;
        p.playbackRate = 1;
        seeks++;
      } else if (master.paused || Math.abs(drift) <= SETTLED_DRIFT_S) {
        p.playbackRate = 1;
      } else {
        // Ahead (drift > 0) slows down, behind speeds up, in proportion.
        const nudge = Math.max(
          -MAX_RATE_NUDGE,
          Math.min(MAX_RATE_NUDGE, (drift / SNAP_DRIFT_S) * MAX_RATE_NUDGE)
        );
        p.playbackRate = 1 - nudge;
      }
      if (!master.paused && p.paused && this._hasFrames(p, t)) {
        void p.play();
      }
    }
    return seeks;
  }

  private _target(player: IPlayer, t: number): number {
    const end = finite(player.duration);
    return end === null ? t : Math.min(t, end);
  }

  /** A follower shorter than the clock's position has nothing left to play. */
  private _hasFrames(player: IPlayer, t: number): boolean {
    const end = finite(player.duration);
    return end === null || t < end;
  }
}
