/**
 * @module proxy/proxy-response
 * The data plane's response class: node:http makes one per request, and its fields carry what the
 * request's end needs to know, so that one 'close' listener per listener serves every response instead
 * of listeners and properties added to each.
 */
import { type IncomingMessage, ServerResponse } from 'node:http';

/** What is told when a response closes while its request is being forwarded. */
export interface ClientCloseListener {
  /** The response closed: if it closed before the answer was whole, the upstream request is dropped. */
  clientClosed(): void;
}

/** A ServerResponse with the forwarding under way declared, so every response has the same shape. */
export class ProxyResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** The forwarding of this response's request, once dispatched. */
  forwarding: ClientCloseListener | undefined = undefined;
}
