/**
 * Card notifications over MQTT (docs/topics.md): `rsp/v1/euicc/+/es5/notify`, shared between the SM-SR
 * instances under MQTT 5 (`$share/{group}/…`). Each valid envelope goes to the domain handler, which
 * confirms it over ES5; a notification already being handled or waiting its turn (a resend) is skipped.
 *
 * At most `concurrency` are handled at once, the rest in arrival order: a fleet coming online declares
 * every card at once, and a card's first declaration costs several ES5 round trips (the confirmation,
 * then the ISD-R handover's Scenario#3). Started all together, those round trips queue at the cards and
 * the later ones outlive their deadline, so the cards resend and the work is done again.
 */
import type { MqttClient } from 'mqtt';
import { es5, parse, parseCardTopic, sharedSubscription, TOPIC_FILTERS } from '@rsp/contracts';
import type { CardNotificationHandler } from '../../domain/card-notifications';
import { describe } from '../../domain/function-runner';
import type { SmSrLogger } from '../../domain/model';

/** Notifications handled at once by default: enough to keep the cards and the services busy. */
export const CARD_NOTIFICATION_CONCURRENCY = 64;

interface Waiting {
  key: string;
  envelope: es5.Es5NotificationEnvelope;
}

export class CardNotificationListener {
  /** Handled or waiting, by `eid/seq`. */
  private readonly inFlight = new Set<string>();
  /** Taken entries are cleared, so that what was handled is not kept. */
  private readonly waiting: Array<Waiting | undefined> = [];
  /** The first entry of {@link waiting} not yet taken (a head index: a queue of 100 000 is not shifted). */
  private head = 0;
  private active = 0;
  /** The client is shared: every ES3 request and ES5 reply passes here too, so others are let go before any parsing. */
  private readonly listener = (topic: string, payload: Buffer) => {
    if (topic.endsWith('/notify')) void this.onMessage(topic, payload);
  };

  constructor(
    private readonly client: MqttClient,
    private readonly handler: CardNotificationHandler,
    private readonly logger: SmSrLogger,
    private readonly options: { protocolVersion?: 4 | 5; group?: string; concurrency?: number } = {},
  ) {}

  async start(): Promise<void> {
    const filter = this.options.protocolVersion === 5 ? sharedSubscription(this.options.group ?? 'smsr', TOPIC_FILTERS.allNotifications) : TOPIC_FILTERS.allNotifications;
    this.client.on('message', this.listener);
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  stop(): void {
    this.client.off('message', this.listener);
    for (let at = this.head; at < this.waiting.length; at += 1) this.inFlight.delete(this.waiting[at]?.key ?? '');
    this.waiting.length = 0; // unconfirmed: the cards resend them
    this.head = 0;
  }

  /** Notifications waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const card = parseCardTopic(topic);
    if (!card || card.kind !== 'notify') return;
    let envelope: es5.Es5NotificationEnvelope;
    try {
      envelope = parse(es5.es5NotificationEnvelope, JSON.parse(payload.toString('utf8')));
    } catch {
      return; // malformed: dropped (the card resends unconfirmed notifications)
    }
    if (envelope.eid !== card.eid) return;
    const key = `${envelope.eid}/${envelope.seq}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    if (this.active >= (this.options.concurrency ?? CARD_NOTIFICATION_CONCURRENCY)) this.waiting.push({ key, envelope });
    else await this.handle({ key, envelope });
  }

  private async handle(next: Waiting | undefined): Promise<void> {
    for (let item = next; item; item = this.take()) {
      this.active += 1;
      try {
        await this.handler.handle(item.envelope);
      } catch (error) {
        this.logger.warn(`card notification ${item.key} not confirmed: ${describe(error)}`);
      } finally {
        this.inFlight.delete(item.key);
        this.active -= 1;
      }
    }
  }

  private take(): Waiting | undefined {
    const item = this.waiting[this.head];
    if (!item) return undefined;
    this.waiting[this.head] = undefined;
    this.head += 1;
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    }
    return item;
  }
}
