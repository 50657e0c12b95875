/** Send order: events before periodic status, and the more severe an event the sooner. */
import type { QueuedMessage, Severity } from '@sentinela/shared';

export const STATUS_PRIORITY = 10;
export const EVENT_PRIORITY: Record<Severity, number> = { info: 20, warning: 30, critical: 40 };

export function priorityOf(message: QueuedMessage): number {
  return message.type === 'event' ? EVENT_PRIORITY[message.severity] : STATUS_PRIORITY;
}
