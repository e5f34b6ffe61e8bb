// What the host and co-hosts steer: play and pause, the seek bar, the rate, the film (with how
// many members could not watch the new one, asked before switching), slow mode, and, for the host
// of a private party, a new invite link. Viewers see where the film is and who controls it.
import { api, explain, num } from './api.js';
import { el, $ } from './dom.js';

export function clockText(ms) {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s % 60).padStart(2, '0')}`;
}

export class PlaybackControls {
  constructor({ roomId, state, sync, titles, send, toast }) {
    this.roomId = roomId;
    this.state = state;
    this.sync = sync;
    this.titles = titles;
    this.send = send;
    this.toast = toast;
    this.dragging = false;
    this.panel = $('#host-controls');
    this.seekBar = $('#seek');
    this.confirm = $('#title-confirm');
    this.wire();
    setInterval(() => this.tick(), 250);
  }

  titleName(titleId) {
    return this.titles.find((t) => t.title.titleId === titleId)?.title.name || titleId;
  }

  wire() {
    $('#play').addEventListener('click', () =>
      this.send({ playback: this.state.playback.playing ? { pause: {} } : { play: {} } }));
    // While the host drags, the bar shows where they are going; the seek is sent when they let go.
    this.seekBar.addEventListener('input', () => {
      this.dragging = true;
      $('#position').textContent = `${clockText(this.seekTarget())} / ${clockText(num(this.state.playback.titleDurationMs))}`;
    });
    this.seekBar.addEventListener('change', () => {
      this.dragging = false;
      this.send({ playback: { seek: { positionMs: String(this.seekTarget()) } } });
    });
    $('#rate').addEventListener('change', (event) =>
      this.send({ playback: { setRate: { rate: Number(event.target.value) } } }));
    $('#slow-mode').addEventListener('change', (event) =>
      this.send({ chat: { setSlowModeMs: event.target.value } }));
    $('#title-switch').addEventListener('click', () => this.previewTitle($('#title-select').value));
    $('#title-confirm-no').addEventListener('click', () => {
      this.confirm.hidden = true;
      $('#title-select').value = this.state.playback.titleId;
    });
    $('#title-confirm-yes').addEventListener('click', () => this.switchTitle(this.confirm.dataset.titleId));
  }

  seekTarget() {
    return Math.round((this.seekBar.value / this.seekBar.max) * num(this.state.playback.titleDurationMs));
  }

  async previewTitle(titleId) {
    if (titleId === this.state.playback.titleId) return;
    const name = this.titleName(titleId);
    let question;
    try {
      const preview = await api.get(`/api/rooms/${this.roomId}/unable-to-watch?titleId=${encodeURIComponent(titleId)}`);
      const unable = num(preview.unableToWatch);
      question = unable
        ? `${unable} ${unable === 1 ? 'member' : 'members'} cannot watch “${name}” in their region. They stay in the chat. Switch anyway?`
        : `Everyone here can watch “${name}”. Switch to it?`;
    } catch (error) {
      this.toast(explain(error));
      return;
    }
    this.confirm.dataset.titleId = titleId;
    $('#title-confirm-text').textContent = question;
    this.confirm.hidden = false;
    $('#title-confirm-yes').focus();
  }

  async switchTitle(titleId) {
    this.confirm.hidden = true;
    const accepted = await this.send({ playback: { changeTitle: { titleId } } });
    if (!accepted) return;
    const unable = num(accepted.membersUnableToWatch);
    this.toast(`Now showing “${this.titleName(titleId)}”.${unable ? ` ${unable} ${unable === 1 ? 'member' : 'members'} cannot watch it.` : ''}`);
  }

  /** Shows or hides the controls for this user's role, and sets them to the room's state. */
  render() {
    const { state } = this;
    this.panel.hidden = !state.controls;
    const playback = state.playback;
    $('#play').textContent = playback.playing ? 'Pause' : 'Play';
    $('#play').setAttribute('aria-label', playback.playing ? 'Pause for everyone' : 'Play for everyone');
    $('#rate').value = String(num(playback.rate));
    $('#slow-mode').value = String(state.slowModeMs);
    const select = $('#title-select');
    if (!select.options.length) {
      for (const t of this.titles) {
        select.append(el('option', { value: t.title.titleId },
          `${t.title.name} (${t.title.year})${t.canWatch ? '' : ' · not in your region'}`));
      }
    }
    if (this.confirm.hidden) select.value = playback.titleId;
    const host = state.room.hostDisplayName;
    $('#controlled-by').textContent = state.isHost
      ? 'You control playback'
      : state.controls
        ? `You and ${host} control playback`
        : `${host} controls playback`;
  }

  tick() {
    const playback = this.state.playback;
    if (!playback) return;
    const duration = num(playback.titleDurationMs);
    const position = this.sync.expectedFilmMs() ?? num(playback.positionMs);
    if (!this.dragging) {
      this.seekBar.value = duration ? String(Math.round((position / duration) * this.seekBar.max)) : '0';
      $('#position').textContent = `${clockText(position)} / ${clockText(duration)}`;
    }
  }
}

/** The share link row: copy it; the host of a private party can also replace the invite. */
export class ShareLink {
  constructor({ roomId, state, invite, toast }) {
    this.roomId = roomId;
    this.state = state;
    this.invite = invite;
    this.toast = toast;
    this.input = $('#share-link');
    $('#copy-link').addEventListener('click', () => this.copy());
    $('#rotate-invite').addEventListener('click', () => this.rotate());
  }

  link() {
    const base = `${location.origin}/rooms/${this.roomId}`;
    if (this.state.room.settings.visibility !== 'PRIVATE') return base;
    return this.invite ? `${base}#invite=${encodeURIComponent(this.invite)}` : '';
  }

  render() {
    const link = this.link();
    this.input.value = link || 'Only the host can make an invite link for this private party.';
    $('#copy-link').disabled = !link;
    $('#rotate-invite').hidden = !(this.state.isHost && this.state.room.settings.visibility === 'PRIVATE');
  }

  async copy() {
    this.input.select();
    try {
      await navigator.clipboard.writeText(this.link());
      this.toast('Link copied. Anyone with it can join.');
    } catch {
      this.toast('Press Ctrl+C (⌘C) to copy the selected link.');
    }
  }

  async rotate() {
    try {
      const rotated = await api.post(`/api/rooms/${this.roomId}/invite`, {});
      this.invite = rotated.inviteToken;
      // This tab's own address keeps working as the current link.
      history.replaceState(null, '', `#invite=${encodeURIComponent(this.invite)}`);
      this.render();
      this.toast('New invite link made: the old one no longer works.');
    } catch (error) {
      this.toast(explain(error));
    }
  }
}
