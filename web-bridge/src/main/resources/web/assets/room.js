// The party page (/rooms/<id>, the share link): signs in if needed, joins (a private room's
// invite comes in the URL fragment, which no server ever sees), then follows the room's events:
// the player kept in sync, members, chat, reactions, and the host's controls.
import { api, explain, num } from './api.js';
import { ServerClock } from './clock.js';
import { el, clear, $ } from './dom.js';
import { currentAccount, signIn } from './session.js';
import { Synchronizer } from './sync.js';

const EVENTS = [
  'snapshot', 'playback_changed', 'member_joined', 'member_left', 'role_changed', 'presence',
  'notice', 'room_closed', 'buffering_changed', 'chat', 'chat_deleted', 'reactions', 'user_muted',
  'slow_mode_changed', 'watchability', 'ended',
];
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '👏', '🔥', '🎉', '🍿'];
const ENDED = {
  KICKED: 'You were removed from the party.',
  BANNED: 'You were banned from the party.',
  ROOM_CLOSED: 'The party has ended.',
  LEFT: 'You left the party.',
  REFUSED: 'You can no longer watch this party.',
};

const roomId = decodeURIComponent(location.pathname.split('/').pop());
const invite = new URLSearchParams(location.hash.slice(1)).get('invite') || '';
const clock = new ServerClock();
const video = $('#player');
const room = { me: null, snapshot: null, titles: [], chatOldest: '', source: null };
let sync = null;
// The demo media is one clip that loops over every film; its length is known once it loads.
let clipMs = 60000;

const debug = { state: null, errorMs: 0, correction: 'none', clock, events: 0 };
window.watchparty = debug;

function show(id) {
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== id;
}

function fail(message) {
  $('#problem-text').textContent = message;
  show('problem');
}

function toast(text) {
  const item = el('li', { className: 'toast' }, text);
  $('#toasts').append(item);
  setTimeout(() => item.remove(), 6000);
}

async function start() {
  room.me = await currentAccount();
  if (!room.me) {
    show('signin');
    room.me = await signIn($('#signin'));
  }
  $('#who').textContent = `${room.me.displayName} · ${room.me.region}`;
  try {
    await api.post(`/api/rooms/${roomId}/join`, { inviteToken: invite });
  } catch (error) {
    fail(explain(error, { region: room.me.region }));
    return;
  }
  room.titles = (await api.get('/api/titles')).titles;
  show('party');
  connect();
}

function connect() {
  const source = new EventSource(`/api/rooms/${roomId}/events`);
  room.source = source;
  for (const name of EVENTS) {
    source.addEventListener(name, (event) => {
      debug.events++;
      handle(name, JSON.parse(event.data));
    });
  }
  source.addEventListener('open', () => setLink('live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      setLink('closed');
      if (!room.ended) fail('The party is no longer reachable. Reload the page to try again.');
    } else {
      setLink('reconnecting');
    }
  });
}

function setLink(state) {
  $('#link').textContent = { live: 'live', reconnecting: 'reconnecting…', closed: 'disconnected' }[state];
  $('#link').className = `link ${state}`;
}

function handle(name, message) {
  switch (name) {
    case 'snapshot': return onSnapshot(message.snapshot);
    case 'playback_changed': return onPlayback(message.playbackChanged);
    case 'member_joined': {
      const member = message.memberJoined.member;
      room.snapshot.members = room.snapshot.members.filter((m) => m.userId !== member.userId).concat(member);
      setCount(num(room.snapshot.memberCount) + 1);
      return renderMembers();
    }
    case 'member_left': {
      const left = message.memberLeft;
      room.snapshot.members = room.snapshot.members.filter((m) => m.userId !== left.userId);
      return renderMembers();
    }
    case 'role_changed': return onRole(message.roleChanged);
    case 'presence': return setCount(num(message.presence.memberCount));
    case 'notice': return toast(message.notice.text);
    case 'room_closed': return toast('The party has ended.');
    case 'buffering_changed':
      $('#buffering').textContent = num(message.bufferingChanged.bufferingCount)
        ? `${num(message.bufferingChanged.bufferingCount)} buffering` : '';
      return;
    case 'chat': return addChat(message.chat, false);
    case 'chat_deleted':
      document.querySelector(`[data-message-id="${CSS.escape(message.chatDeleted.messageId)}"]`)?.remove();
      return;
    case 'reactions': return burst(message.reactions.counts);
    case 'user_muted': {
      const muted = message.userMuted;
      if (muted.userId === room.me.userId) {
        toast(num(muted.untilMs) ? `You are muted until ${new Date(num(muted.untilMs)).toLocaleTimeString()}.` : 'You can chat again.');
      }
      return;
    }
    case 'slow_mode_changed': {
      const ms = num(message.slowModeChanged.slowModeMs);
      room.snapshot.slowModeMs = ms;
      $('#slow-mode').value = String(ms / 1000);
      return toast(ms ? `Slow mode: one message every ${ms / 1000} s.` : 'Slow mode is off.');
    }
    case 'watchability': return onWatchability(message.watchability);
    case 'ended': {
      room.ended = true;
      room.source.close();
      sync?.setBlocked(true);
      return fail(ENDED[message.reason] || message.message);
    }
  }
}

function onSnapshot(snapshot) {
  room.snapshot = snapshot;
  clock.seed(num(snapshot.serverTimeMs), performance.timeOrigin + performance.now());
  if (!sync) {
    sync = new Synchronizer(video, clock, clipMs, renderDiagnostics);
    clock.start(snapshot.syncPolicy.clockSamples, num(snapshot.syncPolicy.clockRefreshMs));
  }
  sync.setPolicy(snapshot.syncPolicy);
  sync.apply(snapshot.playback, true);
  debug.state = snapshot.playback;
  sync.setBlocked(!snapshot.canWatch);
  $('#room-name').textContent = snapshot.room.name;
  setCount(num(snapshot.memberCount));
  renderTitle(snapshot.playback.titleId);
  renderWatchable(snapshot.canWatch, snapshot.playback.titleId);
  renderControls();
  renderMembers();
  clear($('#chat-log'));
  for (const message of snapshot.recentChat) addChat(message, false);
  room.chatOldest = '';
  $('#slow-mode').value = String(num(snapshot.slowModeMs) / 1000);
}

function onPlayback(change) {
  room.snapshot.playback = change.state;
  debug.state = change.state;
  sync.apply(change.state, false);
  renderTitle(change.state.titleId);
  renderPlayButton();
}

function onRole(change) {
  for (const member of room.snapshot.members) if (member.userId === change.userId) member.role = change.role;
  if (change.role === 'HOST') room.snapshot.room.hostUserId = change.userId;
  if (change.userId === room.me.userId) {
    room.snapshot.yourRole = change.role;
    toast(`You are now ${change.role === 'COHOST' ? 'a co-host' : change.role === 'HOST' ? 'the host' : 'a viewer'}.`);
    renderControls();
  }
  renderMembers();
}

function onWatchability(watchability) {
  sync.setBlocked(!watchability.canWatch);
  renderWatchable(watchability.canWatch, watchability.titleId, watchability.region);
}

const controls = () => ['HOST', 'COHOST'].includes(room.snapshot.yourRole);
const isHost = () => room.snapshot.yourRole === 'HOST';
const titleName = (id) => room.titles.find((t) => t.title.titleId === id)?.title.name || id;

function setCount(count) {
  room.snapshot.memberCount = String(count);
  $('#count').textContent = `${count} watching`;
}

function renderTitle(titleId) {
  $('#title-name').textContent = titleName(titleId);
  const media = room.titles.find((t) => t.title.titleId === titleId)?.title.mediaUrl || `/media/${titleId}.mp4`;
  if (video.getAttribute('src') !== media) video.src = media;
}

function renderWatchable(canWatch, titleId, region = room.me.region) {
  const overlay = $('#unavailable');
  overlay.hidden = canWatch;
  overlay.textContent = canWatch ? '' : `“${titleName(titleId)}” is not available in your region (${region}). You can stay and chat.`;
}

function renderPlayButton() {
  $('#play').textContent = room.snapshot.playback.playing ? 'Pause' : 'Play';
}

function renderControls() {
  $('#host-controls').hidden = !controls();
  $('#share').hidden = !(isHost() || room.snapshot.room.settings.visibility === 'PUBLIC');
  const select = $('#title-select');
  clear(select);
  for (const t of room.titles) {
    select.append(el('option', { value: t.title.titleId }, t.title.name + (t.canWatch ? '' : ' (not in your region)')));
  }
  select.value = room.snapshot.playback.titleId;
  renderPlayButton();
}

function renderMembers() {
  const list = $('#members');
  clear(list);
  // The server lists members who joined with an app; viewers in browsers are counted, not listed
  // (their relay names them by id only). Show yourself either way.
  const members = room.snapshot.members.some((m) => m.userId === room.me.userId)
    ? room.snapshot.members
    : [{ userId: room.me.userId, displayName: room.me.displayName, role: room.snapshot.yourRole }, ...room.snapshot.members];
  for (const member of members) {
    const item = el('li', { dataset: { user: member.userId } },
      el('span', { className: 'name' }, member.userId === room.me.userId ? `${member.displayName} (you)` : member.displayName),
      member.role !== 'VIEWER' ? el('span', { className: 'role' }, member.role === 'HOST' ? 'host' : 'co-host') : null);
    if (controls() && member.userId !== room.me.userId && member.role !== 'HOST') {
      const actions = moderation(member.userId, member.role);
      if (isHost()) {
        const transfer = el('button', { type: 'button', className: 'small' }, 'make host');
        transfer.addEventListener('click', () => send({ role: { transferHost: member.userId } }));
        actions.append(transfer);
      }
      item.append(actions);
    }
    list.append(item);
  }
}

// Moderation buttons for a user, in the member list and on their chat messages (browser viewers
// are not listed as members by the server, but a host can act on what they write).
function moderation(userId, role) {
  const actions = el('span', { className: 'actions', dataset: { for: userId } });
  const add = (label, command) => {
    const button = el('button', { type: 'button', className: 'small', dataset: { action: label } }, label);
    button.addEventListener('click', () => send(command));
    actions.append(button);
  };
  if (isHost()) {
    add(role === 'COHOST' ? 'revoke' : 'co-host',
      { role: role === 'COHOST' ? { revokeCohost: userId } : { grantCohost: userId } });
  }
  add('mute', { chat: { mute: { userId, durationMs: '300000' } } });
  add('kick', { role: { kick: userId } });
  add('ban', { role: { ban: userId } });
  return actions;
}

function addChat(message, older) {
  const log = $('#chat-log');
  const item = el('li', { dataset: { messageId: message.messageId } },
    el('span', { className: 'author' }, message.displayName),
    el('span', { className: 'text' }, message.text));
  if (controls() && message.userId !== room.me.userId && message.userId !== room.snapshot.room.hostUserId) {
    item.append(moderation(message.userId, 'VIEWER'));
  }
  if (controls() || message.userId === room.me.userId) {
    const remove = el('button', { type: 'button', className: 'small delete', title: 'Delete' }, '×');
    remove.addEventListener('click', () => send({ chat: { deleteMessageId: message.messageId } }));
    item.append(remove);
  }
  if (older) log.prepend(item);
  else {
    document.querySelector(`[data-message-id="${CSS.escape(message.messageId)}"]`)?.remove();
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }
}

function burst(counts) {
  for (const [emoji, count] of Object.entries(counts)) {
    for (let i = 0; i < Math.min(num(count), 12); i++) {
      const bubble = el('span', { className: 'bubble' }, emoji);
      bubble.style.left = `${10 + Math.random() * 80}%`;
      bubble.style.animationDelay = `${i * 80}ms`;
      $('#bubbles').append(bubble);
      setTimeout(() => bubble.remove(), 2500 + i * 80);
    }
  }
}

function renderDiagnostics(s) {
  debug.errorMs = s.errorMs;
  debug.correction = s.correction;
  $('#diag-offset').textContent = `${clock.offsetMs.toFixed(1)} ms ± ${clock.uncertaintyMs.toFixed(1)} ms`;
  $('#diag-error').textContent = `${s.errorMs.toFixed(1)} ms`;
  $('#diag-correction').textContent = s.correction;
  $('#diag-seek').textContent = `${s.seekLatencyMs.toFixed(0)} ms`;
  $('#diag-rate').textContent = video.playbackRate.toFixed(4);
}

async function send(command) {
  try {
    return await api.post(`/api/rooms/${roomId}/commands`, command);
  } catch (error) {
    toast(explain(error));
    return null;
  }
}

function wire() {
  $('#play').addEventListener('click', () =>
    send({ playback: room.snapshot.playback.playing ? { pause: {} } : { play: {} } }));
  const seekBar = $('#seek');
  seekBar.addEventListener('change', () => {
    const duration = num(room.snapshot.playback.titleDurationMs);
    send({ playback: { seek: { positionMs: String(Math.round((seekBar.value / 1000) * duration)) } } });
  });
  $('#rate').addEventListener('change', (event) => send({ playback: { setRate: { rate: Number(event.target.value) } } }));
  $('#title-select').addEventListener('change', async (event) => {
    const titleId = event.target.value;
    const preview = await api.get(`/api/rooms/${roomId}/unable-to-watch?titleId=${encodeURIComponent(titleId)}`).catch(() => null);
    const unable = preview ? num(preview.unableToWatch) : 0;
    const question = unable
      ? `${unable} of ${num(preview.memberCount)} members cannot watch “${titleName(titleId)}” in their region. Switch anyway?`
      : `Switch to “${titleName(titleId)}”?`;
    if (!confirm(question)) {
      event.target.value = room.snapshot.playback.titleId;
      return;
    }
    const accepted = await send({ playback: { changeTitle: { titleId } } });
    if (accepted) toast(`${num(accepted.membersUnableToWatch)} members cannot watch this title.`);
  });
  $('#slow-mode').addEventListener('change', (event) =>
    send({ chat: { setSlowModeMs: String(Math.round(Number(event.target.value) * 1000)) } }));
  $('#share').addEventListener('click', async () => {
    let link = `${location.origin}/rooms/${roomId}`;
    if (room.snapshot.room.settings.visibility === 'PRIVATE') {
      if (isHost() && confirm('Make a new invite link? The old one stops working.')) {
        link = (await api.post(`/api/rooms/${roomId}/invite`, {})).shareLink;
      } else if (invite) {
        link += `#invite=${invite}`;
      }
    }
    await navigator.clipboard?.writeText(link).catch(() => {});
    $('#share-link').value = link;
    $('#share-link').hidden = false;
  });
  $('#leave').addEventListener('click', async () => {
    await api.post(`/api/rooms/${roomId}/leave`, {}).catch(() => {});
    location.href = '/';
  });
  $('#older').addEventListener('click', async () => {
    const page = await api.get(`/api/rooms/${roomId}/chat?pageSize=50${room.chatOldest ? `&pageToken=${encodeURIComponent(room.chatOldest)}` : ''}`);
    const shown = new Set([...document.querySelectorAll('#chat-log [data-message-id]')].map((n) => n.dataset.messageId));
    for (const message of page.messages) if (!shown.has(message.messageId)) addChat(message, true);
    room.chatOldest = page.nextPageToken;
    $('#older').hidden = !page.nextPageToken;
  });
  $('#chat-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('#chat-input');
    const text = input.value;
    if (!text.trim()) return;
    // One id per message, reused on a retry, so that a resend is stored once.
    const clientMessageId = input.dataset.pendingId || crypto.randomUUID();
    input.dataset.pendingId = clientMessageId;
    try {
      await api.post(`/api/rooms/${roomId}/chat`, { clientMessageId, text });
      input.value = '';
      delete input.dataset.pendingId;
    } catch (error) {
      toast(explain(error));
    }
  });
  $('#chat-input').addEventListener('input', (event) => delete event.target.dataset.pendingId);
  for (const emoji of REACTIONS) {
    const button = el('button', { type: 'button', className: 'reaction' }, emoji);
    button.addEventListener('click', () => api.post(`/api/rooms/${roomId}/reactions`, { emoji }).catch((e) => toast(explain(e))));
    $('#reactions').append(button);
  }
  setInterval(() => {
    const state = sync?.current();
    if (!state || $('#seek') === document.activeElement) return;
    const duration = num(state.titleDurationMs);
    const position = Math.min(duration, sync ? filmNow(state) : 0);
    seekBar.value = duration ? String(Math.round((position / duration) * 1000)) : '0';
    $('#position').textContent = `${clockText(position)} / ${clockText(duration)}`;
  }, 250);
  video.addEventListener('waiting', () => ($('#diag-buffering').textContent = 'buffering'));
  video.addEventListener('playing', () => ($('#diag-buffering').textContent = 'ready'));
}

function filmNow(state) {
  const elapsed = state.playing ? Math.max(0, clock.now() - num(state.effectiveAtMs)) * (state.rate || 1) : 0;
  return num(state.positionMs) + elapsed;
}

function clockText(ms) {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
}

video.addEventListener('loadedmetadata', () => {
  clipMs = Math.round(video.duration * 1000);
  if (sync) sync.clipMs = clipMs;
});
wire();
start().catch((error) => fail(explain(error)));
