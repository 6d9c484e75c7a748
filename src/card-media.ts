/**
 * The media part of a job card: the video, or the poster, a note, and for an
 * untrusted output the button that loads its remote video on request; and the
 * reference media the job was made from.
 */
import type { ICardView } from './card-model';
import { button, el, setVisible } from './dom';
import { MSG } from './messages';

export class CardMedia {
  /** `onLoadRemote(url)`: the user asked for the remote video an untrusted output named. */
  constructor(private readonly _onLoadRemote: (url: string) => void) {}

  readonly node = el('div', { class: 'seedance-media' });

  /** Replace the media only when its source changes, so playback is not interrupted. */
  render(view: ICardView): void {
    const key = [
      view.video?.src,
      view.poster,
      view.videoNote,
      view.remote?.url
    ].join('|');
    if (key === this._key) {
      return;
    }
    this._key = key;
    this.node.replaceChildren();
    if (view.video) {
      const video = el('video', {
        class: 'seedance-video',
        src: view.video.src,
        controls: '',
        preload: 'metadata',
        playsinline: '',
        'aria-label': view.video.label
      });
      if (view.poster) {
        video.poster = view.poster;
      }
      this.node.append(video);
    } else if (view.poster) {
      this.node.append(
        el('img', {
          class: 'seedance-poster',
          src: view.poster,
          alt: MSG.posterAlt(view.prompt)
        })
      );
    }
    if (view.videoNote) {
      this.node.append(
        el('p', { class: 'seedance-video-note' }, [view.videoNote])
      );
    }
    if (view.remote) {
      const url = view.remote.url;
      const load = button(MSG.loadRemote(view.remote.host));
      load.classList.add('seedance-load-remote');
      load.addEventListener('click', () => {
        this._onLoadRemote(url);
      });
      this.node.append(load);
    }
  }

  private _key: string | null = null;
}

/** Thumbnails of image references, the kind and name of the others (rebuilt on change only). */
export class CardReferences {
  readonly node = el('div', { class: 'seedance-references' });

  render(view: ICardView): void {
    const key = JSON.stringify(view.references);
    if (key === this._key) {
      return;
    }
    this._key = key;
    this.node.replaceChildren(
      ...view.references.map(ref =>
        ref.thumbnail
          ? el('img', {
              class: 'seedance-ref-thumb',
              src: ref.thumbnail,
              alt: ref.label,
              title: ref.label
            })
          : el('span', { class: 'seedance-ref' }, [`[${ref.label}]`])
      )
    );
    setVisible(this.node, view.references.length > 0);
  }

  private _key = '';
}
