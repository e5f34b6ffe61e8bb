// The chat beside the player: history (the snapshot's recent messages, then older pages on
// request), live messages and deletions, notices, and sending with slow-mode and mute countdowns.
// Every text goes into the page as text (dom.js), never as markup.
import { api, explain, num } from './api.js';
import { el, clear, $ } from './dom.js';
import { moderationMenu } from './members.js';

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

// Lines (messages and notices) the log keeps: beyond, the oldest leave the page; the server keeps
// the history, and a reload shows the newest again.
const MAX_LINES = 500;

function countdown(ms) {
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

export class ChatPanel {
  constructor({ roomId, state, clock, send }) {
    this.roomId = roomId;
    this.state = state;
    this.clock = clock;
    this.sendCommand = send;
    this.log = $('#chat-log');
    this.input = $('#chat-input');
    this.button = $('#chat-send');
    this.status = $('#chat-status');
    this.older = $('#older');
    this.olderToken = '';
    // messageId -> { message, line } of each message in the log, its ChatMessage null once
    // deleted (the line then says so); the log's lines hold the order.
    this.shown = new Map();
    this.cooldownUntil = 0; // server ms: slow mode holds this user's next message until then
    this.pending = null; // { clientMessageId, text } of the message being sent or to retry
    this.refusal = '';

    $('#chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.older.addEventListener('click', () => this.loadOlder());
    setInterval(() => this.renderStatus(), 1000);
  }

  /** A snapshot's recent messages, oldest first: the log starts again from them. */
  reset(recentChat) {
    clear(this.log);
    this.shown.clear();
    for (const message of recentChat) this.put(message, 'append');
    this.trim();
    this.olderToken = '';
    this.older.hidden = this.full();
    this.scrollToEnd(true);
    this.renderStatus();
  }

  add(message) {
    const follow = this.atEnd();
    this.put(message, 'append');
    this.trim();
    this.scrollToEnd(follow);
  }

  remove(messageId) {
    const shown = this.shown.get(messageId);
    if (!shown) return;
    const line = el('li', { className: 'deleted', dataset: { messageId } }, 'Message removed');
    shown.line.replaceWith(line);
    this.shown.set(messageId, { message: null, line });
  }

  notice(text) {
    const follow = this.atEnd();
    this.log.append(el('li', { className: 'notice' }, text));
    this.trim();
    this.scrollToEnd(follow);
  }

  /** After a role change: moderation menus appear or go on every message. */
  refreshMenus() {
    for (const { message } of this.shown.values()) if (message) this.put(message);
  }

  /** Shows `message` in place of its line, or at the log's `end` ('append', 'prepend') if new. */
  put(message, end) {
    const line = this.line(message);
    const shown = this.shown.get(message.messageId);
    if (shown) shown.line.replaceWith(line);
    else this.log[end](line);
    this.shown.set(message.messageId, { message, line });
  }

  full() {
    return this.log.childElementCount >= MAX_LINES;
  }

  /**
   * Drops the oldest lines beyond MAX_LINES. A full log offers no older messages: they would go
   * above lines already dropped, and the page shows only the newest.
   */
  trim() {
    while (this.log.childElementCount > MAX_LINES) {
      const oldest = this.log.firstElementChild;
      if (oldest.dataset.messageId) this.shown.delete(oldest.dataset.messageId);
      oldest.remove();
    }
    if (this.full()) this.older.hidden = true;
  }

  line(message) {
    const state = this.state;
    const mine = message.userId === state.me.userId;
    const author = { userId: message.userId, displayName: message.displayName, role: this.roleOf(message.userId) };
    const actions = el('span', { className: 'line-actions' }, moderationMenu(author, state, this.sendCommand, this.clock));
    if (state.controls || mine) {
      const remove = el('button', { type: 'button', className: 'icon', ariaLabel: 'Delete message', title: 'Delete message', dataset: { action: 'delete' } }, '×');
      remove.addEventListener('click', () => this.sendCommand({ chat: { deleteMessageId: message.messageId } }));
      actions.append(remove);
    }
    return el('li', { className: mine ? 'mine' : '', dataset: { messageId: message.messageId, user: message.userId } },
      el('span', { className: 'author' }, message.displayName),
      el('time', { className: 'sent', dateTime: new Date(num(message.sentAtMs)).toISOString() }, timeOfDay.format(num(message.sentAtMs))),
      actions,
      el('span', { className: 'text' }, message.text));
  }

  roleOf(userId) {
    if (userId === this.state.room.hostUserId) return 'HOST';
    return this.state.members.get(userId)?.role || 'VIEWER';
  }

  async loadOlder() {
    const token = this.olderToken ? `&pageToken=${encodeURIComponent(this.olderToken)}` : '';
    try {
      const page = await api.get(`/api/rooms/${this.roomId}/chat?pageSize=50${token}`);
      const height = this.log.scrollHeight;
      // Newest first: each older message goes above the ones already shown, while there is room.
      for (const message of page.messages) {
        if (this.full()) break;
        if (!this.shown.has(message.messageId)) this.put(message, 'prepend');
      }
      this.log.scrollTop += this.log.scrollHeight - height;
      this.olderToken = page.nextPageToken;
      this.older.hidden = !page.nextPageToken || this.full();
    } catch (error) {
      this.notice(explain(error));
    }
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text || this.blockedFor() > 0) return;
    // One id per message, reused when the same text is sent again after a failure, so that a
    // retry the server had in fact stored is stored (and shown) once.
    if (!this.pending || this.pending.text !== text) this.pending = { clientMessageId: crypto.randomUUID(), text };
    this.button.disabled = true;
    try {
      const stored = await api.post(`/api/rooms/${this.roomId}/chat`, this.pending);
      this.pending = null;
      this.refusal = '';
      this.input.value = '';
      this.add(stored);
      if (this.state.slowModeMs && this.state.yourRole === 'VIEWER') this.cooldownUntil = this.clock.now() + this.state.slowModeMs;
    } catch (error) {
      if (error.reason === 'SLOW_MODE') this.cooldownUntil = this.clock.now() + error.retryAfterMs;
      if (error.reason === 'MUTED') this.state.muted.set(this.state.me.userId, num(error.metadata.until_ms));
      this.refusal = ['SLOW_MODE', 'MUTED'].includes(error.reason) ? '' : `Not sent: ${explain(error)}`;
    } finally {
      this.button.disabled = false;
      this.renderStatus();
      this.input.focus();
    }
  }

  /** How long this user must wait before sending, in ms (mute or slow mode). */
  blockedFor() {
    const now = this.clock.now();
    const muted = (this.state.muted.get(this.state.me.userId) || 0) - now;
    return Math.max(0, muted, this.cooldownUntil - now);
  }

  renderStatus() {
    const now = this.clock.now();
    const muted = (this.state.muted.get(this.state.me.userId) || 0) - now;
    const slow = this.cooldownUntil - now;
    let text = this.refusal;
    if (muted > 0) text = `You are muted for ${countdown(muted)}.`;
    else if (slow > 0) text = `Slow mode: you can send again in ${countdown(slow)}.`;
    else if (!text && this.state.slowModeMs) text = `Slow mode: one message every ${countdown(this.state.slowModeMs)}.`;
    this.status.textContent = text;
    this.status.classList.toggle('warn', muted > 0 || slow > 0 || Boolean(this.refusal));
    this.input.disabled = muted > 0;
    this.button.disabled = muted > 0 || slow > 0;
  }

  atEnd() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
  }

  scrollToEnd(follow) {
    if (follow) this.log.scrollTop = this.log.scrollHeight;
  }
}
