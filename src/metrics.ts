import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics. One registry per app so tests and replicas in one
 * process never share counters.
 */
export interface Metrics {
  registry: Registry;
  predictions: Counter<'model' | 'version' | 'route'>;
  predictionErrors: Counter<'model' | 'version' | 'route'>;
  predictionLatency: Histogram<'model' | 'version' | 'route'>;
  batchRows: Histogram<'model' | 'version'>;
  /** Rows answered from a version's prediction cache, and rows it had to compute. */
  cacheHits: Counter<'model' | 'version'>;
  cacheMisses: Counter<'model' | 'version'>;
  httpRequests: Counter<'method' | 'path' | 'status'>;
  /** gRPC calls by method and status code name (OK, INVALID_ARGUMENT, …). */
  grpcRequests: Counter<'method' | 'code'>;
  /** Sources read at scrape time: no work on the request path. */
  watch(sources: MetricSources): void;
}

export interface MetricSources {
  queueDepth: () => number;
  rowsWritten: () => number;
  rowsRejected: () => number;
  liveVersions: () => Array<{ model: string; version: string }>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'modelgate_' });
  const labelNames = ['model', 'version', 'route'] as const;
  let sources: MetricSources | undefined;

  new Gauge({
    name: 'modelgate_prediction_log_queue_depth',
    help: 'Prediction rows accepted but not yet committed to the log',
    registers: [registry],
    collect() {
      this.set(sources?.queueDepth() ?? 0);
    },
  });
  new Counter({
    name: 'modelgate_prediction_log_rows_written_total',
    help: 'Prediction rows committed to the log',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources?.rowsWritten() ?? 0);
    },
  });
  new Counter({
    name: 'modelgate_prediction_log_rows_rejected_total',
    help: 'Prediction rows the database would not take as they are (a required field missing), each logged as an error',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources?.rowsRejected() ?? 0);
    },
  });
  new Gauge({
    name: 'modelgate_live_version_info',
    help: 'The live version of each model (value is always 1)',
    labelNames: ['model', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { model, version } of sources?.liveVersions() ?? [])
        this.set({ model, version }, 1);
    },
  });

  return {
    registry,
    predictions: new Counter({
      name: 'modelgate_predictions_total',
      help: 'Rows predicted, by model, version and the route that chose the version',
      labelNames,
      registers: [registry],
    }),
    predictionErrors: new Counter({
      name: 'modelgate_prediction_errors_total',
      help: 'Rows that failed inside the model',
      labelNames,
      registers: [registry],
    }),
    predictionLatency: new Histogram({
      name: 'modelgate_prediction_duration_seconds',
      help: 'Time from routing to model output for one request',
      labelNames,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    batchRows: new Histogram({
      name: 'modelgate_batch_rows',
      help: 'Rows per ONNX Runtime call after dynamic batching',
      labelNames: ['model', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'modelgate_prediction_cache_hits_total',
      help: "Rows answered from the version's prediction cache (MODELGATE_CACHE_ROWS), still logged",
      labelNames: ['model', 'version'],
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: 'modelgate_prediction_cache_misses_total',
      help: 'Rows the prediction cache did not hold, computed by the model',
      labelNames: ['model', 'version'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'modelgate_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'path', 'status'],
      registers: [registry],
    }),
    grpcRequests: new Counter({
      name: 'modelgate_grpc_requests_total',
      help: 'gRPC calls by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    watch(next) {
      sources = next;
    },
  };
}
