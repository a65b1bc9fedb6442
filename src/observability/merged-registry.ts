import { AggregatorRegistry, type Registry } from "prom-client";

/** What /metrics needs of a registry: its exposition and that exposition's content type. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * Several registries served as one exposition (run --targets: the process's, and one per target whose metrics
 * carry a `target` label). Concatenating their texts would repeat a family's HELP and TYPE lines, which
 * Prometheus rejects; prom-client's aggregation merges each family's samples instead, and samples of different
 * targets differ by their label, so none is summed with another.
 */
export function mergedRegistry(registries: () => readonly Registry[]): MetricsSource {
  return {
    contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
    metrics: async () => {
      const families = await Promise.all(registries().map((registry) => registry.getMetricsAsJSON()));
      return AggregatorRegistry.aggregate(families).metrics();
    },
  };
}
