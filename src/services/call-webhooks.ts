import type { AwayUser, CallMarks } from '../ports/call-marks.js';
import type { Logger } from '../ports/logger.js';
import type { CallRegistry } from '../ports/realtime.js';
import type { WebhookPublisher } from '../ports/webhooks.js';

/** Why a user left a call, as `participant.left` says it. */
export type ParticipantLeftReason = 'left' | 'disconnected' | 'kicked' | 'ended' | 'removed';

type User = { id: string; name: string };

/** How often each node looks for users whose recovery window passed. */
const SWEEP_MS = 1000;

/**
 * `participant.*` and `call.*` webhooks, once per occurrence across the cluster, in order.
 *
 * A participant is a user in the call (LiveKit's sense), not a socket: a second tab changes
 * nothing, and a user whose connection dropped counts as gone only once the recovery window
 * passed without them coming back (a return within it sends nothing, although the other peers
 * saw `call:peer-left`). CallMarks decides each step atomically: entering and exiting a
 * participation, taking an away mark (a return and the sweep of any node race for it), starting
 * and ending the call. Each `participant.left` is queued before its participation ends, and the
 * call ends only once none is left, so `call.ended` comes after every `participant.left` of the
 * call (and a call with a user away has not ended). Two racing exits of one participation
 * publish under one occurrence id, which the outbox keeps once.
 *
 * With no webhook that wants these events, every method returns at once.
 */
export class CallWebhooks {
  private sweeper: NodeJS.Timeout | null = null;
  private readonly enabled: boolean;

  constructor(
    private readonly webhooks: WebhookPublisher,
    private readonly calls: CallRegistry,
    private readonly marks: CallMarks,
    private readonly recoveryWindowMs: number,
    private readonly logger: Logger,
  ) {
    this.enabled = (['participant.joined', 'participant.left', 'call.started', 'call.ended'] as const).some((t) => webhooks.wants(t));
  }

  start(): void {
    if (!this.enabled || this.sweeper) return;
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** A peer of `user` entered the call; `others` were there before it. */
  async joined(roomId: string, user: User, others: unknown[]): Promise<void> {
    if (!this.enabled) return;
    await this.guard('join', async () => {
      if (others.length === 0) {
        const callId = await this.marks.startCall(roomId);
        if (callId) await this.webhooks.publish('call.started', { roomId, callId }, `call.started:${callId}`);
      }
      // Back within the recovery window: for the webhook they never left.
      if (await this.marks.comeBack(roomId, user.id)) return;
      const participation = await this.marks.enter(roomId, user.id);
      if (participation) await this.webhooks.publish('participant.joined', { roomId, userId: user.id, name: user.name }, `${participation}:joined`);
    });
  }

  /** A peer of `user` is out of the call (the registry no longer has it). */
  async left(roomId: string, user: User, reason: ParticipantLeftReason): Promise<void> {
    if (!this.enabled) return;
    await this.guard('leave', async () => {
      if ((await this.calls.peers(roomId)).some((p) => p.userId === user.id)) return;
      if (reason === 'disconnected') {
        await this.marks.markAway({ roomId, userId: user.id, name: user.name }, Date.now() + this.recoveryWindowMs);
      } else {
        await this.exit({ roomId, userId: user.id, name: user.name }, reason);
      }
    });
  }

  /** Users whose recovery window passed: gone, and a call they were the last of has ended. */
  private async sweep(): Promise<void> {
    await this.guard('sweep', async () => {
      for (const user of await this.marks.takeDue(Date.now(), 100)) {
        // Back in the call (on another node, before its mark was taken): not gone.
        if ((await this.calls.peers(user.roomId)).some((p) => p.userId === user.userId)) continue;
        await this.exit(user, 'disconnected');
      }
    });
  }

  private async exit({ roomId, userId, name }: AwayUser, reason: ParticipantLeftReason): Promise<void> {
    const participation = await this.marks.participation(roomId, userId);
    if (!participation) return;
    await this.webhooks.publish('participant.left', { roomId, userId, name, reason }, `${participation}:left`);
    if ((await this.marks.exit(roomId, userId)) > 0) return;
    if ((await this.calls.peers(roomId)).length > 0) return;
    const callId = await this.marks.endCall(roomId);
    if (callId) await this.webhooks.publish('call.ended', { roomId, callId }, `call.ended:${callId}`);
  }

  /** A webhook that cannot be queued must not fail the call action that caused it: logged. */
  private async guard(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn('call webhook bookkeeping failed', { err, what });
    }
  }
}
