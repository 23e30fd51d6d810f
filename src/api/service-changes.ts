/**
 * @module api/service-changes
 * Turns route tables into `service` events: after each table the traffic state publishes, every service
 * whose view (weights, live version, targets, faults, with its targets' health) differs from the last
 * one sent is sent again, whole, once. A table that changes nothing a client sees (a revision bump, a
 * table equal for this service) sends nothing. Health changes that move no route (a target's first check,
 * a passive ejection) come in through {@link ServiceChanges.refresh}.
 */
import type { RouteTable } from '../core/route-table.js';
import type { TrafficPort } from '../shifting/ports.js';
import type { HealthSource } from './rest/services.js';
import type { ServiceAnswer } from './rest/wire.js';

/** What {@link ServiceChanges} reads and where it sends each changed view. */
export interface ServiceChangesDeps {
  readonly traffic: Pick<TrafficPort, 'service'>;
  readonly health?: HealthSource | undefined;
  /** Hears each changed view: the event stream's `publishService`. */
  readonly emit: (service: ServiceAnswer) => void;
}

/** A route-table receiver (structurally the traffic state's RoutePublisher) that emits changed service views. */
export class ServiceChanges {
  readonly #deps: ServiceChangesDeps;
  /** The last view sent of each service, as JSON. */
  readonly #sent = new Map<string, string>();

  constructor(deps: ServiceChangesDeps) {
    this.#deps = deps;
  }

  /** Takes a new route table: sends the view of each of its services that changed. */
  publish(table: { readonly services: readonly Pick<RouteTable['services'][number], 'name'>[] }): void {
    for (const route of table.services) this.refresh(route.name);
  }

  /** Sends `service`'s view if it changed since the last one sent. */
  refresh(service: string): void {
    const { traffic, health, emit } = this.#deps;
    const view = traffic.service(service);
    const answer: ServiceAnswer = health ? { ...view, health: health.viewOf(service) } : view;
    const text = JSON.stringify(answer);
    if (this.#sent.get(service) === text) return;
    this.#sent.set(service, text);
    emit(answer);
  }
}
