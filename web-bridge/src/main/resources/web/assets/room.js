// The party page (/rooms/<id>, the share link): signs in if needed, joins (a private room's
// invite comes in the URL fragment, which never reaches a server log or a Referer), then follows
// the room's event stream: the player kept in sync, the people, the chat, reactions, and the
// controls of the host and co-hosts.
import { api, ApiError, explain, regionName } from './api.js';
import { ChatPanel } from './chat.js';
import { ServerClock } from './clock.js';
import { PlaybackControls, ShareLink } from './controls.js';
import { renderDiagnostics } from './diagnostics.js';
import { $, el } from './dom.js';
import { renderMembers } from './members.js';
import { reactionButtons, burst } from './reactions.js';
import { RoomState } from './room-state.js';
import { currentAccount, signIn } from './session.js';
import { Synchronizer } from './sync.js';

const EVENTS = [
  'snapshot', 'playback_changed', 'member_joined', 'member_left', 'role_changed', 'presence',
  'notice', 'room_closed', 'buffering_changed', 'chat', 'chat_deleted', 'reactions', 'user_muted',
  'slow_mode_changed', 'watchability', 'ended',
];
const ENDED = {
  KICKED: ['You were removed from the party', 'The host or a co-host removed you. You can join again with a new invite.'],
  BANNED: ['You were banned from the party', 'The host or a co-host banned you from this party.'],
  ROOM_CLOSED: ['The party has ended', 'The host has closed this party.'],
  LEFT: ['You left the party', 'You left this party, in this tab or another one.'],
  TOO_SLOW: ['Disconnected', 'This connection fell too far behind the party. Reload the page to join again.'],
};
const ROLE_NAME = { HOST: 'the host', COHOST: 'a co-host', VIEWER: 'a viewer' };
// How long "resumed" or "resynced" shows before the badge says "live" again.
const RECOVERED_MS = 4000;

const roomId = decodeURIComponent(location.pathname.split('/').pop());
const invite = new URLSearchParams(location.hash.slice(1)).get('invite') || '';
const clock = new ServerClock();
const video = $('#player');

let state = null;
let sync = null;
let chat = null;
let controls = null;
let share = null;
let source = null;
let stream = 'connecting';
let reconnected = false;
let ended = false;
let retryDelayMs = 0;

function show(id) {
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== id;
}

function fail(title, text) {
  $('#problem-title').textContent = title;
  $('#problem-text').textContent = text;
  show('problem');
  $('#link').hidden = true;
}

function toast(text) {
  const item = el('li', { className: 'toast' }, text);
  $('#toasts').append(item);
  setTimeout(() => item.remove(), 6000);
}

async function send(command) {
  try {
    return await api.post(`/api/rooms/${roomId}/commands`, command);
  } catch (error) {
    toast(explain(error));
    return null;
  }
}

async function start() {
  let me = await currentAccount();
  if (!me) {
    show('signin');
    me = await signIn($('#signin'), 'Sign in to join the party');
    show('connecting');
  }
  $('#who').textContent = `${me.displayName} · ${me.region}`;
  try {
    await api.post(`/api/rooms/${roomId}/join`, invite ? { inviteToken: invite } : {});
  } catch (error) {
    fail("Can't join this party", explain(error, { region: me.region }));
    return;
  }
  const { titles } = await api.get('/api/titles');
  state = new RoomState(me);
  sync = new Synchronizer(video, clock, {
    onUpdate: () => renderDiagnostics(sync, clock, stream),
    onBuffering,
    onPlayRefused: () => ($('#start-playback').hidden = false),
  });
  chat = new ChatPanel({ roomId, state, clock, send });
  controls = new PlaybackControls({ roomId, state, sync, titles, send, toast });
  share = new ShareLink({ roomId, state, invite, toast });
  reactionButtons($('#reactions'), roomId, toast);
  $('#leave').addEventListener('click', leave);
  // The muted autoplay of a <video> needs no gesture; if a browser refuses it anyway, the viewer
  // gets a button, and its click is the gesture the browser wants.
  $('#start-playback').addEventListener('click', () => video.play().catch(() => {}));
  video.addEventListener('play', () => ($('#start-playback').hidden = true));
  if (document.querySelector('meta[name="watchparty-test-hook"]')) exposeForTests();
  connect();
}

// The player stalled for data (or plays again): shown here, and reported to the room, so that a
// small private party that waits for buffering pauses for this viewer as for any member. A stall
// is reported only once it has lasted BUFFERING_REPORT_MS: the short stall after each of our own
// sync seeks must not pause the whole party. Only changes are sent; a report that fails (no stream
// yet, say) is dropped: the next change says it.
const BUFFERING_REPORT_MS = 750;
let reportedBuffering = false;
let bufferingTimer = null;

function onBuffering(buffering) {
  $('#buffering').textContent = buffering ? 'Buffering…' : '';
  clearTimeout(bufferingTimer);
  bufferingTimer = buffering ? setTimeout(() => reportBuffering(true), BUFFERING_REPORT_MS) : null;
  if (!buffering) reportBuffering(false);
}

function reportBuffering(buffering) {
  if (buffering === reportedBuffering) return;
  reportedBuffering = buffering;
  api.post(`/api/rooms/${roomId}/buffering`, { buffering }).catch(() => {});
}

function connect() {
  source = new EventSource(`/api/rooms/${roomId}/events`);
  for (const name of EVENTS) {
    source.addEventListener(name, (event) => handle(name, JSON.parse(event.data)));
  }
  source.addEventListener('open', () => {
    retryDelayMs = 0;
    if (reconnected) setStream('resumed');
  });
  source.addEventListener('error', () => {
    if (ended) return;
    if (source.readyState === EventSource.CONNECTING) {
      // EventSource reconnects by itself, with Last-Event-ID: the bridge replays what was missed.
      reconnected = true;
      setStream('reconnecting');
    } else {
      streamRefused();
    }
  });
}

// The stream was answered with an error status, which EventSource does not show: asking to join
// again says whether this user may still watch (and why not), or whether to try again later.
async function streamRefused() {
  source.close();
  reconnected = true;
  setStream('reconnecting');
  try {
    await api.post(`/api/rooms/${roomId}/join`, invite ? { inviteToken: share.invite } : {});
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500 || error.status === 429) {
      // A network failure (a TypeError from fetch) has no Retry-After: the backoff alone decides.
      retry(error instanceof ApiError ? error.retryAfterMs : 0);
      return;
    }
    sync.stop();
    fail("You can't watch this party any more", explain(error, { region: state.me.region }));
    return;
  }
  retry(0);
}

// The page's one reconnect backoff: 1 s, doubling up to 30 s, never sooner than the server asked
// (Retry-After); the stream's next open resets it.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

function retry(afterMs) {
  const asked = Number.isFinite(afterMs) && afterMs > 0 ? afterMs : 0;
  retryDelayMs = Math.min(RETRY_MAX_MS, Math.max(asked, retryDelayMs * 2 || RETRY_FIRST_MS));
  setTimeout(connect, retryDelayMs);
}

function setStream(next) {
  stream = next;
  const badge = $('#link');
  badge.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', resumed: 'resumed', resynced: 'resynced' }[next];
  badge.className = `link ${next}`;
  if (next === 'resumed' || next === 'resynced') {
    setTimeout(() => stream === next && setStream('live'), RECOVERED_MS);
  }
}

function handle(name, message) {
  if (name === 'ended') return onEnded(message);
  if (name === 'snapshot') return onSnapshot(message);
  if (!state.apply(name, message)) return; // already seen before a resume
  switch (name) {
    case 'playback_changed':
      sync.follow(message.playbackChanged.state, false);
      controls.render();
      return renderTitle();
    case 'member_joined':
    case 'member_left':
    case 'presence':
      return renderPeople();
    case 'role_changed': {
      const { userId, role } = message.roleChanged;
      if (userId === state.me.userId) {
        toast(`You are now ${ROLE_NAME[role]}.`);
        controls.render();
        share.render();
        chat.refreshMenus();
      }
      return renderPeople();
    }
    case 'notice':
      return chat.notice(message.notice.text);
    case 'room_closed':
      return chat.notice('The host has closed the party.');
    case 'buffering_changed': {
      const count = Number(message.bufferingChanged.bufferingCount);
      $('#buffering').textContent = count ? `${count} buffering…` : '';
      return;
    }
    case 'chat':
      return chat.add(message.chat);
    case 'chat_deleted':
      return chat.remove(message.chatDeleted.messageId);
    case 'reactions':
      return burst($('#bubbles'), message.reactions.counts);
    case 'user_muted': {
      const { userId, untilMs } = message.userMuted;
      if (userId === state.me.userId) {
        chat.notice(Number(untilMs) ? `You are muted until ${new Date(Number(untilMs)).toLocaleTimeString()}.` : 'You can chat again.');
      }
      chat.renderStatus();
      return renderPeople();
    }
    case 'slow_mode_changed': {
      const ms = state.slowModeMs;
      chat.notice(ms ? `Slow mode is on: one message every ${ms / 1000} s.` : 'Slow mode is off.');
      chat.renderStatus();
      return controls.render();
    }
    case 'watchability':
      sync.setBlocked(!state.canWatch);
      return renderWatchable(message.watchability.region);
    default:
      return undefined;
  }
}

function onSnapshot(message) {
  const first = state.room === null;
  state.reset(message);
  if (first) {
    show('party');
    clock.start(state.policy.clockSamples, Number(state.policy.clockRefreshMs)).then(() => sync.check());
  }
  sync.setPolicy(state.policy);
  sync.follow(state.playback, true);
  sync.setBlocked(!state.canWatch);
  chat.reset(message.snapshot.recentChat);
  document.title = `${state.room.name} · WatchParty`;
  $('#room-name').textContent = state.room.name;
  renderTitle();
  renderWatchable();
  renderPeople();
  controls.render();
  share.render();
  // A snapshot on a reconnect means the gap was too old to replay: the page starts again from it.
  setStream(reconnected ? 'resynced' : 'live');
  reconnected = false;
}

function onEnded(message) {
  ended = true;
  source.close();
  sync.stop();
  const [title, text] = ENDED[message.reason] || ['The party is over for you', message.message];
  fail(title, text);
}

function renderTitle() {
  $('#title-name').textContent = controls.titleName(state.playback.titleId);
  renderMedia();
}

// A member whose region may not watch the film does not load it at all.
function renderMedia() {
  const media = state.canWatch ? `/media/${encodeURIComponent(state.playback.titleId)}.mp4` : null;
  if (video.getAttribute('src') === media) return;
  if (media) {
    video.src = media;
  } else {
    video.removeAttribute('src');
    video.load();
  }
}

function renderWatchable(region = state.me.region) {
  const overlay = $('#unavailable');
  overlay.hidden = state.canWatch;
  overlay.textContent = state.canWatch
    ? ''
    : `“${controls.titleName(state.playback.titleId)}” is not available in your region, ${regionName(region)}. You can stay in the party and keep chatting.`;
  renderMedia();
}

function renderPeople() {
  const count = state.memberCount || 1;
  $('#count').textContent = `${count} watching`;
  renderMembers($('#members'), $('#member-count'), state, send, clock);
}

async function leave() {
  ended = true;
  source?.close();
  await api.post(`/api/rooms/${roomId}/leave`, {}).catch(() => {});
  location.href = '/';
}

// What a browser test reads of the player, live. Only a bridge started for tests
// (watchparty.bridge.testhook) puts the <meta> into the page that installs it; users never get it.
function exposeForTests() {
  window.watchparty = {
    get state() { return state.playback; },
    get errorMs() { return sync.errorMs; },
    get correction() { return sync.correction; },
    get expectedFilmMs() { return sync.expectedFilmMs(); },
    get seekLatencyMs() { return sync.seekLatencyMs; },
    get role() { return state.yourRole; },
    get stream() { return stream; },
    clock: {
      get offsetMs() { return clock.offsetMs; },
      get uncertaintyMs() { return clock.uncertaintyMs; },
      now: () => clock.now(),
    },
  };
}

start().catch((error) => fail("Can't join this party", explain(error)));
