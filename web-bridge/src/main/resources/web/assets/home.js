// The home page: who you are, a form to start a party, your parties, and the public parties with
// whether you can watch each one here.
import { api, explain, num, regionName } from './api.js';
import { el, clear, $ } from './dom.js';
import { currentAccount, signIn, signOut } from './session.js';

let titles = [];
let nextPage = '';

async function start() {
  let me = await currentAccount();
  if (!me) {
    $('#signin').hidden = false;
    me = await signIn($('#signin'));
    $('#signin').hidden = true;
  }
  $('#who').textContent = `${me.displayName} · ${regionName(me.region)}`;
  $('#sign-out').hidden = false;
  $('#no-subscription').hidden = me.subscribed;
  $('#home').hidden = false;
  titles = (await api.get('/api/titles')).titles;
  renderTitles();
  await Promise.all([renderMine(), renderDirectory(true)]);
}

/** The open parties this user hosts or joined and did not leave; hidden when there are none. */
async function renderMine() {
  const { rooms = [] } = await api.get('/api/my-rooms');
  const list = $('#my-rooms');
  clear(list);
  for (const room of rooms) list.append(directoryEntry(room, 'Open'));
  $('#mine').hidden = rooms.length === 0;
}

const titleName = (id) => titles.find((t) => t.title.titleId === id)?.title.name || id;

function renderTitles() {
  const select = $('#create-title');
  clear(select);
  const watchable = titles.filter((t) => t.canWatch);
  const elsewhere = titles.filter((t) => !t.canWatch);
  const group = (label, list, disabled) => {
    const optgroup = el('optgroup', { label });
    for (const t of list) {
      optgroup.append(el('option', { value: t.title.titleId, disabled }, `${t.title.name} (${t.title.year})`));
    }
    if (list.length) select.append(optgroup);
  };
  group('Available in your region', watchable, false);
  group('Not available in your region', elsewhere, true);
  select.value = watchable[0]?.title.titleId || '';
}

async function renderDirectory(fromStart) {
  const list = $('#directory');
  if (fromStart) {
    clear(list);
    nextPage = '';
  }
  const page = await api.get(`/api/rooms?pageSize=20${nextPage ? `&pageToken=${encodeURIComponent(nextPage)}` : ''}`);
  if (fromStart && !page.rooms.length) {
    list.append(el('li', { className: 'empty muted' }, 'No public parties right now. Start one!'));
  }
  for (const room of page.rooms) list.append(directoryEntry(room));
  nextPage = page.nextPageToken;
  $('#more-rooms').hidden = !nextPage;
}

function directoryEntry(room, action = 'Join') {
  const count = num(room.memberCount);
  return el('li', { dataset: { room: room.roomId } },
    el('div', { className: 'entry-text' },
      el('a', { href: `/rooms/${room.roomId}`, className: 'entry-name' }, room.name),
      el('span', { className: 'meta' },
        `${titleName(room.titleId)} · hosted by ${room.hostDisplayName} · ${count} ${count === 1 ? 'person' : 'people'} watching`)),
    el('span', { className: room.canWatch ? 'badge ok' : 'badge no' },
      room.canWatch ? 'You can watch this here' : 'Not available in your region'),
    el('a', { href: `/rooms/${room.roomId}`, className: 'button-link', ariaLabel: `${action} ${room.name}` }, action));
}

$('#create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#create-status');
  status.textContent = '';
  const form = event.target;
  try {
    const created = await api.post('/api/rooms', {
      titleId: $('#create-title').value,
      name: $('#create-name').value.trim() || `${titleName($('#create-title').value)} night`,
      settings: {
        visibility: form.elements.visibility.value,
        hostLeavePolicy: form.elements['host-leave'].value,
      },
    });
    // The share link, on this page's own address (the server's may name another host for it).
    const room = created.room.roomId;
    location.href = `/rooms/${room}${created.inviteToken ? `#invite=${encodeURIComponent(created.inviteToken)}` : ''}`;
  } catch (error) {
    status.textContent = explain(error);
  }
});
$('#refresh').addEventListener('click', () => Promise.all([renderMine(), renderDirectory(true)]).catch((error) => ($('#create-status').textContent = explain(error))));
$('#more-rooms').addEventListener('click', () => renderDirectory(false).catch((error) => ($('#create-status').textContent = explain(error))));
$('#sign-out').addEventListener('click', async () => {
  await signOut();
  location.reload();
});
start().catch((error) => ($('#create-status').textContent = explain(error)));
