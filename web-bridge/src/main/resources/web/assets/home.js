// The home page: who you are, the public parties (and whether you can watch each here), and a
// form to start a party of your own.
import { api, explain, num } from './api.js';
import { el, clear, $ } from './dom.js';
import { currentAccount, signIn, signOut } from './session.js';

async function start() {
  let me = await currentAccount();
  if (!me) {
    $('#home').hidden = true;
    $('#signin').hidden = false;
    me = await signIn($('#signin'));
    $('#signin').hidden = true;
  }
  $('#home').hidden = false;
  $('#who').textContent = `${me.displayName} · ${me.region}${me.subscribed ? '' : ' · no subscription'}`;
  $('#sign-out').hidden = false;
  await Promise.all([renderTitles(), renderDirectory()]);
}

async function renderTitles() {
  const { titles } = await api.get('/api/titles');
  const select = $('#create-title');
  clear(select);
  for (const t of titles) {
    select.append(el('option', { value: t.title.titleId, disabled: !t.canWatch },
      `${t.title.name} (${t.title.year})${t.canWatch ? '' : ' — not in your region'}`));
  }
  select.value = titles.find((t) => t.canWatch)?.title.titleId || '';
}

async function renderDirectory() {
  const list = $('#directory');
  clear(list);
  const { rooms } = await api.get('/api/rooms?pageSize=50');
  if (!rooms.length) list.append(el('li', { className: 'muted' }, 'No public parties right now. Start one!'));
  for (const room of rooms) {
    const link = el('a', { href: `/rooms/${room.roomId}` }, room.name);
    list.append(el('li', { dataset: { room: room.roomId } },
      link,
      el('span', { className: 'meta' }, `hosted by ${room.hostDisplayName} · ${num(room.memberCount)} watching`),
      el('span', { className: room.canWatch ? 'badge ok' : 'badge no' },
        room.canWatch ? 'you can watch this here' : 'not available in your region')));
  }
}

$('#create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#create-status');
  status.textContent = '';
  try {
    const created = await api.post('/api/rooms', {
      titleId: $('#create-title').value,
      name: $('#create-name').value.trim() || 'Watch party',
      settings: { visibility: $('#create-private').checked ? 'PRIVATE' : 'PUBLIC' },
    });
    location.href = created.shareLink;
  } catch (error) {
    status.textContent = explain(error);
  }
});
$('#refresh').addEventListener('click', () => renderDirectory().catch(() => {}));
$('#sign-out').addEventListener('click', async () => {
  await signOut();
  location.reload();
});
start().catch((error) => ($('#create-status').textContent = explain(error)));
