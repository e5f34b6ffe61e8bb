// The room as this page knows it: a snapshot, then every event folded in, in sequence order.
// No DOM here; the page renders from it.
import { num } from './api.js';

export const CONTROLLERS = ['HOST', 'COHOST'];

export class RoomState {
  constructor(me) {
    this.me = me; // the signed-in Account
    this.sequence = -1;
    this.room = null;
    this.playback = null;
    this.members = new Map(); // userId -> Member, in small rooms
    this.memberCount = 0;
    this.yourRole = 'VIEWER';
    this.canWatch = true;
    this.slowModeMs = 0;
    this.muted = new Map(); // userId -> muted until (server ms), as user_muted events say
    this.policy = null;
  }

  get controls() {
    return CONTROLLERS.includes(this.yourRole);
  }

  get isHost() {
    return this.yourRole === 'HOST';
  }

  /** A snapshot replaces everything (first join, or a resync after a gap too old to replay). */
  reset(message) {
    const snapshot = message.snapshot;
    this.sequence = num(message.sequence);
    this.room = snapshot.room;
    this.playback = snapshot.playback;
    this.members = new Map(snapshot.members.map((m) => [m.userId, m]));
    this.memberCount = num(snapshot.memberCount);
    this.yourRole = snapshot.yourRole;
    this.canWatch = snapshot.canWatch;
    this.slowModeMs = num(snapshot.slowModeMs);
    this.policy = snapshot.syncPolicy;
  }

  /**
   * Folds one event in; false when it is one this page has already seen (room events carry the
   * room's sequence; connection-only events such as `watchability` carry 0 and always apply).
   */
  apply(name, message) {
    const sequence = num(message.sequence);
    if (sequence > 0) {
      if (sequence <= this.sequence) return false;
      this.sequence = sequence;
    }
    switch (name) {
      case 'playback_changed':
        this.playback = message.playbackChanged.state;
        break;
      case 'member_joined': {
        const member = message.memberJoined.member;
        if (!this.members.has(member.userId)) this.memberCount++;
        this.members.set(member.userId, member);
        break;
      }
      case 'member_left':
        if (this.members.delete(message.memberLeft.userId)) this.memberCount = Math.max(0, this.memberCount - 1);
        break;
      case 'role_changed': {
        const { userId, role } = message.roleChanged;
        const member = this.members.get(userId);
        if (member) member.role = role;
        if (role === 'HOST') {
          // One host: the previous one is now a co-host or viewer, and its own event says which.
          this.room.hostUserId = userId;
          if (member) this.room.hostDisplayName = member.displayName;
        }
        if (userId === this.me.userId) this.yourRole = role;
        break;
      }
      case 'presence':
        this.memberCount = num(message.presence.memberCount);
        break;
      case 'user_muted': {
        const { userId, untilMs } = message.userMuted;
        if (num(untilMs)) this.muted.set(userId, num(untilMs));
        else this.muted.delete(userId);
        break;
      }
      case 'slow_mode_changed':
        this.slowModeMs = num(message.slowModeChanged.slowModeMs);
        this.room.settings.slowModeMs = String(this.slowModeMs);
        break;
      case 'watchability':
        this.canWatch = message.watchability.canWatch;
        break;
      case 'room_closed':
        this.room.closed = true;
        break;
      default:
        break;
    }
    return true;
  }

  /** The members to list: the server's (small rooms), with this user always among them. */
  memberList() {
    const list = [...this.members.values()];
    if (!this.members.has(this.me.userId)) {
      list.unshift({ userId: this.me.userId, displayName: this.me.displayName, role: this.yourRole, connected: true });
    }
    const rank = { HOST: 0, COHOST: 1, VIEWER: 2 };
    return list.sort((a, b) => rank[a.role] - rank[b.role] || a.displayName.localeCompare(b.displayName));
  }
}
