/** Send order: events and drill reports before periodic status, and the more severe an event the sooner. */
import type { QueuedMessage, Severity } from '@sentinela/shared';

export const STATUS_PRIORITY = 10;
export const EVENT_PRIORITY: Record<Severity, number> = { info: 20, warning: 30, critical: 40 };

export function priorityOf(message: QueuedMessage): number {
  if (message.type === 'drill') return message.drill.ok ? EVENT_PRIORITY.info : EVENT_PRIORITY.warning;
  return message.type === 'event' ? EVENT_PRIORITY[message.severity] : STATUS_PRIORITY;
}
