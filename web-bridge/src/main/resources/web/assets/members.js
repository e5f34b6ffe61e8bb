// The people in the party and what the host and co-hosts can do to each of them: the member list,
// and the same moderation menu on every chat message (a large room lists no members, but a
// moderator can still act on whoever writes).
import { el, clear } from './dom.js';

const ROLE_LABEL = { HOST: 'host', COHOST: 'co-host' };
const MUTE_MS = 10 * 60 * 1000;

/**
 * A menu of moderation actions on `target` ({userId, displayName, role}) for this user, or null
 * when this user may do nothing to them. `send` posts a room Command; `clock` is the page's
 * estimate of the server's clock, which a mute's end is in.
 */
export function moderationMenu(target, state, send, clock) {
  if (!state.controls || target.userId === state.me.userId || target.role === 'HOST') return null;
  const menu = el('details', { className: 'menu', dataset: { for: target.userId } },
    el('summary', { ariaLabel: `Manage ${target.displayName}`, title: `Manage ${target.displayName}` }, '⋯'));
  const list = el('div', { className: 'menu-items' });
  // `confirm` ({question, answer}): the action is sent only once the user confirms it.
  const item = (action, label, command, confirm = null) => {
    const button = el('button', { type: 'button', dataset: { action } }, label);
    button.addEventListener('click', () => {
      if (confirm) {
        ask(confirm, command);
      } else {
        menu.open = false;
        send(command);
      }
    });
    list.append(button);
  };
  // Removing or banning someone asks first: the question stands in for the menu's items until
  // the menu closes (the answer, Cancel, or its ⋯ again).
  let prompt = null;
  const ask = ({ question, answer }, command) => {
    const yes = el('button', { type: 'button', dataset: { action: 'confirm' } }, answer);
    const no = el('button', { type: 'button', dataset: { action: 'cancel' } }, 'Cancel');
    yes.addEventListener('click', () => {
      menu.open = false;
      send(command);
    });
    no.addEventListener('click', () => (menu.open = false));
    prompt = el('div', { className: 'menu-items menu-confirm', role: 'alertdialog', ariaLabel: question },
      el('p', {}, question), yes, no);
    list.replaceWith(prompt);
    no.focus();
  };
  menu.addEventListener('toggle', () => {
    if (menu.open || !prompt) return;
    prompt.replaceWith(list);
    prompt = null;
  });
  if (state.isHost) {
    if (target.role === 'COHOST') item('revoke', 'Remove co-host', { role: { revokeCohost: target.userId } });
    else item('cohost', 'Make co-host', { role: { grantCohost: target.userId } });
    item('transfer', 'Make host', { role: { transferHost: target.userId } });
  }
  const mutedUntil = state.muted.get(target.userId) || 0;
  if (mutedUntil > clock.now()) item('unmute', 'Unmute', { chat: { unmute: target.userId } });
  else item('mute', 'Mute for 10 min', { chat: { mute: { userId: target.userId, durationMs: String(MUTE_MS) } } });
  item('kick', 'Remove from party', { role: { kick: target.userId } },
    { question: `Remove ${target.displayName} from the party?`, answer: 'Remove' });
  item('ban', 'Ban from party', { role: { ban: target.userId } },
    { question: `Ban ${target.displayName} from the party? They cannot join it again.`, answer: 'Ban' });
  menu.append(list);
  return menu;
}

export function renderMembers(list, countLabel, state, send, clock) {
  clear(list);
  countLabel.textContent = `· ${state.memberCount || 1}`;
  for (const member of state.memberList()) {
    const you = member.userId === state.me.userId;
    list.append(el('li', { dataset: { user: member.userId }, className: member.connected === false ? 'away' : '' },
      el('span', { className: 'avatar', ariaHidden: 'true' }, member.displayName.slice(0, 1).toUpperCase()),
      el('span', { className: 'name' }, member.displayName, you ? el('span', { className: 'muted' }, ' (you)') : null),
      ROLE_LABEL[member.role] ? el('span', { className: `role ${member.role.toLowerCase()}` }, ROLE_LABEL[member.role]) : null,
      member.connected === false ? el('span', { className: 'muted small' }, 'reconnecting') : null,
      moderationMenu(member, state, send, clock)));
  }
  // The server lists members only in small rooms; in large ones, the count is all there is.
  const unlisted = state.memberCount - state.memberList().length;
  if (unlisted > 0) list.append(el('li', { className: 'muted more' }, `and ${unlisted} more watching`));
}
