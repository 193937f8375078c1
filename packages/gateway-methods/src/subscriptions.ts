/**
 * The event topics one connection is subscribed to. The gateway keeps one per connection (a
 * `Set<string>` fits) and drops it with the connection; handlers add and remove topics, and the
 * gateway delivers a topic's events to the connections that hold it.
 */
export interface ConnectionSubscriptions {
  add(topic: string): unknown;
  delete(topic: string): unknown;
  has(topic: string): boolean;
}
