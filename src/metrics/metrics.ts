import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Every metric of ours starts with this; names follow Prometheus' conventions (`_total`, `_seconds`). */
export const METRIC_PREFIX = "session_api_";

/** Latency buckets in seconds, from a cache hit (well under a millisecond) to the lease bound. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface MetricOptions<L extends string> {
  /** Without the prefix: `logins_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/**
 * This instance's metrics: one prom-client registry (never the global one, so that tests and
 * the benchmark can run several servers in one process), passed to every part that reports.
 * A feature registers its own in one line, e.g.
 * `const backlog = services.metrics.gauge({ name: "outbox_backlog", help: "...", collect: () => n })`.
 *
 * The request path only ever increments a counter or observes a histogram (an array walk);
 * everything that has a size (sockets, cache entries, the pool) is read when scraped.
 */
export class Metrics {
  readonly registry = new Registry();

  counter<L extends string = never>(options: MetricOptions<L> & { collect?: () => number }): Counter<L> {
    const { collect } = options;
    return new Counter<L>({
      name: METRIC_PREFIX + options.name,
      help: options.help,
      labelNames: options.labelNames ?? [],
      registers: [this.registry],
      // A count kept elsewhere as a plain number (the cache's hits): copied in when scraped.
      ...(collect
        ? {
            collect(this: Counter<L>) {
              this.reset();
              this.inc(collect());
            },
          }
        : {}),
    });
  }

  /** A value read when scraped (`collect`), or set by its owner. */
  gauge<L extends string = never>(options: MetricOptions<L> & { collect?: () => number }): Gauge<L> {
    const { collect } = options;
    return new Gauge<L>({
      name: METRIC_PREFIX + options.name,
      help: options.help,
      labelNames: options.labelNames ?? [],
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Gauge<L>) {
              this.set(collect());
            },
          }
        : {}),
    });
  }

  histogram<L extends string = never>(options: MetricOptions<L> & { buckets?: number[] }): Histogram<L> {
    return new Histogram<L>({
      name: METRIC_PREFIX + options.name,
      help: options.help,
      labelNames: options.labelNames ?? [],
      buckets: options.buckets ?? LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Node's own (CPU, memory, event-loop lag, GC), prefixed as ours: only when they are served. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
