// Reactions: the server's fixed set of emoji (server chat.ChatEmoji), sent one at a time, counted
// by the server per short window and shown to everyone as a burst over the picture.
import { api, explain, num } from './api.js';
import { el } from './dom.js';

export const EMOJI = ['👍', '👎', '❤️', '😂', '😮', '😢', '👏', '🔥', '🎉', '🍿'];
// A burst of a thousand viewers' hearts is drawn as a handful: enough to see, cheap to animate.
const MOST_PER_EMOJI = 8;

export function reactionButtons(container, roomId, onError) {
  for (const emoji of EMOJI) {
    const button = el('button', { type: 'button', className: 'reaction', ariaLabel: `React ${emoji}` }, emoji);
    button.addEventListener('click', () =>
      api.post(`/api/rooms/${roomId}/reactions`, { emoji }).catch((error) => onError(explain(error))));
    container.append(button);
  }
}

/** Shows a `reactions` event's counts as emoji rising over the picture. */
export function burst(container, counts) {
  for (const [emoji, count] of Object.entries(counts)) {
    for (let i = 0; i < Math.min(num(count), MOST_PER_EMOJI); i++) {
      const bubble = el('span', { className: 'bubble' }, emoji);
      // Set through the CSSOM: the page's Content-Security-Policy allows no inline style attribute.
      bubble.style.left = `${8 + Math.random() * 84}%`;
      bubble.style.animationDelay = `${i * 90}ms`;
      bubble.addEventListener('animationend', () => bubble.remove());
      container.append(bubble);
    }
  }
}
