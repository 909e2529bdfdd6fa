import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_VARIABLES, readConfig } from '../src/config.js';
import {
  composeSeconds,
  dockerfileStages,
  envPairs,
  interpolateCompose,
  REPO,
  readRepoFile,
  readYaml,
  readYamlDocuments,
} from './support/deploy-files.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

// Docker, Compose and Kubernetes cannot run on this machine (no image pulls). These tests
// check what can drift away from the code: the start command, probe paths, variable
// names and values, ports, and the stop timing.

const packageJson = z
  .object({ scripts: z.object({ start: z.string() }) })
  .parse(JSON.parse(readRepoFile('package.json')));
/** `npm start` (`exec` only replaces npm's shell with node). */
const productionStart = packageJson.scripts.start.replace(/^exec /, '').split(' ');

/** The drain deadline after SIGTERM that `env` gives the gateway, in seconds. */
const shutdownSeconds = (env: Record<string, string>) => readConfig(env).shutdownTimeoutMs / 1000;

const stages = dockerfileStages(readRepoFile('Dockerfile'));
const runtime = stages.at(-1) ?? [];
const instruction = (keyword: string) => runtime.filter((i) => i.keyword === keyword);
const lastArgs = (keyword: string) => instruction(keyword).at(-1)?.args ?? '';
const imageEnv: Record<string, string> = Object.assign(
  {},
  ...instruction('ENV').map((i) => envPairs(i.args)),
);
const imageVolumes: string[] = instruction('VOLUME').flatMap((i) => JSON.parse(i.args));
/** Whether `path` is inside one of `mounts`: rows spilled there outlive the container. */
const onVolume = (path: string, mounts: string[]) =>
  mounts.some((mount) => path === mount || path.startsWith(`${mount}/`));
const POSTGRES_URL = 'postgres://modelgate@postgres:5432/modelgate';

const probePaths = new Set<string>();
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await createTestGateway();
});
afterAll(async () => {
  await gateway?.close();
  // Every path a probe, health check or balancer names was requested on a real gateway.
  expect([...probePaths].sort()).toEqual(['/v2/health/live', '/v2/health/ready']);
});

/** Requests `path` on a real gateway: the endpoint a probe names must exist and be up. */
async function expectServed(path: string): Promise<void> {
  probePaths.add(path);
  const res = await gateway.request(path);
  expect(res.status, `${path} on a running gateway`).toBe(200);
}

function expectKnownVariables(names: string[], where: string): void {
  const unknown = names.filter((name) => !CONFIG_VARIABLES.includes(name));
  expect(unknown, `variables in ${where} that src/config.ts does not read`).toEqual([]);
}

describe('Dockerfile', () => {
  it('builds on node:20-bookworm-slim in two stages and runs the production start as PID 1', () => {
    expect(stages.map((stage) => stage[0]?.args.split(/\s+/)[0])).toEqual([
      'node:20-bookworm-slim',
      'node:20-bookworm-slim',
    ]);
    // Exec form, no shell or npm in between: node itself receives SIGTERM.
    expect(productionStart).toEqual(['node', 'dist/main.js']);
    expect(JSON.parse(lastArgs('CMD'))).toEqual(productionStart);
    expect(lastArgs('STOPSIGNAL')).toBe('SIGTERM');
    expect(instruction('ENTRYPOINT')).toEqual([]);
  });

  it('starts what the build produces: dist/main.js from src/main.ts', () => {
    const build = z
      .object({ compilerOptions: z.object({ outDir: z.string(), rootDir: z.string() }) })
      .parse(JSON.parse(readRepoFile('tsconfig.build.json')));
    expect(build.compilerOptions.outDir).toBe('dist');
    expect(existsSync(resolve(REPO, build.compilerOptions.rootDir, 'main.ts'))).toBe(true);
    const buildStage = (stages[0] ?? []).map((i) => i.args).join('\n');
    expect(buildStage).toMatch(/npm ci\b/);
    expect(buildStage).toMatch(/test -f dist\/main\.js/);
    expect(buildStage).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user', () => {
    expect(lastArgs('USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(lastArgs('USER')).not.toBe('');
  });

  it('health-checks a real readiness endpoint', async () => {
    const path = /\/v2\/health\/\w+/.exec(lastArgs('HEALTHCHECK'))?.[0] ?? '';
    expect(path).toBe('/v2/health/ready');
    await expectServed(path);
  });

  it('sets only variables the config reads, with values it accepts, and exposes its port', () => {
    expectKnownVariables(Object.keys(imageEnv), 'the Dockerfile');
    const config = readConfig(imageEnv);
    expect(lastArgs('EXPOSE')).toBe(`${config.port} ${config.grpcPort}`);
    expect(config.modelsDir).toBe('/models');
    // The SQLite log, and spill files with either storage, on the image's volume.
    expect(onVolume(config.dbPath, imageVolumes)).toBe(true);
    expect(onVolume(config.spillDir, imageVolumes)).toBe(true);
    expect(
      onVolume(
        readConfig({ ...imageEnv, MODELGATE_DATABASE_URL: POSTGRES_URL }).spillDir,
        imageVolumes,
      ),
    ).toBe(true);
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = stages
      .flat()
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(resolve(REPO, source)), `${source} exists`).toBe(true);
      expect(ignored, `${source} is not in .dockerignore`).not.toContain(source);
    }
  });
});

const container = z.object({
  name: z.string(),
  command: z.array(z.string()),
  ports: z.array(z.object({ name: z.string(), containerPort: z.number() })),
  envFrom: z.array(
    z.object({
      configMapRef: z.object({ name: z.string() }).optional(),
      secretRef: z.object({ name: z.string() }).optional(),
    }),
  ),
  env: z.array(z.object({ name: z.string() })).optional(),
  readinessProbe: z.object({ httpGet: z.object({ path: z.string(), port: z.string() }) }),
  livenessProbe: z.object({ httpGet: z.object({ path: z.string(), port: z.string() }) }),
  startupProbe: z.object({ httpGet: z.object({ path: z.string(), port: z.string() }) }).optional(),
  lifecycle: z.object({ preStop: z.object({ exec: z.object({ command: z.array(z.string()) }) }) }),
  volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })),
});
const k8sObject = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string() }),
});
const deployment = k8sObject.extend({
  spec: z.object({
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.object({
      metadata: z.object({ labels: z.record(z.string(), z.string()) }),
      spec: z.object({
        terminationGracePeriodSeconds: z.number(),
        securityContext: z.object({ runAsNonRoot: z.literal(true) }),
        containers: z.array(container).length(1),
      }),
    }),
  }),
});

describe('Kubernetes manifests (deploy/k8s, kustomize)', () => {
  const kustomization = z
    .object({ resources: z.array(z.string()) })
    .parse(readYaml('deploy/k8s/kustomization.yaml'));
  const objects = kustomization.resources.flatMap((file) =>
    readYamlDocuments(`deploy/k8s/${file}`).map((doc) => k8sObject.passthrough().parse(doc)),
  );
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const one = (kind: string) => {
    expect(ofKind(kind), kind).toHaveLength(1);
    return ofKind(kind)[0];
  };
  const dep = deployment.parse(one('Deployment'));
  const pod = dep.spec.template.spec;
  const main = pod.containers[0] as z.infer<typeof container>;
  const data = (kind: string, field: 'data' | 'stringData') =>
    z.record(z.string(), z.string()).parse((one(kind) as Record<string, unknown>)[field]);
  const configMap = data('ConfigMap', 'data');
  const secret = data('Secret', 'stringData');
  const env = { ...configMap, ...secret };

  it('has one Deployment, Service and PodDisruptionBudget', () => {
    expect(ofKind('Deployment').length + ofKind('Service').length).toBe(2);
    expect(ofKind('PodDisruptionBudget')).toHaveLength(1);
  });

  it('runs the production start, with the image CMD', () => {
    expect(main.command).toEqual(productionStart);
  });

  it('probes real endpoints: readiness on /v2/health/ready, liveness on /v2/health/live', async () => {
    expect(main.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(main.livenessProbe.httpGet.path).toBe('/v2/health/live');
    for (const probe of [main.readinessProbe, main.livenessProbe, main.startupProbe]) {
      if (!probe) continue;
      await expectServed(probe.httpGet.path);
      expect(main.ports.map((p) => p.name)).toContain(probe.httpGet.port);
    }
  });

  it('takes its config from the ConfigMap and the Secret, with names and values the config accepts', () => {
    const refs = main.envFrom.map((from) => from.configMapRef?.name ?? from.secretRef?.name);
    expect(refs.sort()).toEqual([one('ConfigMap')?.metadata.name, one('Secret')?.metadata.name]);
    expectKnownVariables(Object.keys(env), 'the ConfigMap and Secret');
    expectKnownVariables(
      (main.env ?? []).map((e) => e.name),
      'the container env',
    );
    expect(Object.keys(secret).sort()).toEqual([
      'MODELGATE_CONTROL_TOKEN',
      'MODELGATE_DATABASE_URL',
    ]);
    const config = readConfig(env);
    expect(config.databaseUrl).not.toBeNull();
    expect(config.controlTokenGenerated).toBe(false);
    expect(main.ports.map((p) => p.containerPort)).toEqual([config.port, config.grpcPort]);
    expect(
      onVolume(
        config.spillDir,
        main.volumeMounts.map((m) => m.mountPath),
      ),
    ).toBe(true);
  });

  it('routes the Service to the container port and selects the pods, as does the budget', () => {
    const service = z
      .object({
        spec: z.object({
          selector: z.record(z.string(), z.string()),
          ports: z.array(z.object({ targetPort: z.string() })),
        }),
      })
      .parse(one('Service'));
    const budget = z
      .object({
        spec: z.object({
          minAvailable: z.number(),
          selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
        }),
      })
      .parse(one('PodDisruptionBudget'));
    const labels = dep.spec.template.metadata.labels;
    for (const selector of [
      service.spec.selector,
      budget.spec.selector.matchLabels,
      dep.spec.selector.matchLabels,
    ]) {
      expect(labels).toMatchObject(selector);
    }
    for (const port of service.spec.ports) {
      expect(main.ports.map((p) => p.name)).toContain(port.targetPort);
    }
    expect(budget.spec.minAvailable).toBeGreaterThanOrEqual(1);
  });

  it('gives the preStop pause and the drain time before SIGKILL', () => {
    const [sleep, seconds] = main.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(seconds) + shutdownSeconds(env),
    );
  });
});

const composeService = z.object({
  build: z.string().optional(),
  image: z.string().optional(),
  command: z.unknown().optional(),
  environment: z.record(z.string(), z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  stop_grace_period: z.string().optional(),
});

describe('compose.yaml', () => {
  const compose = z
    .object({ services: z.record(z.string(), composeService) })
    .parse(readYaml('compose.yaml'));
  const gateways = Object.entries(compose.services).filter(([, s]) => s.build === '.');
  const haproxy = compose.services.haproxy;

  it('runs two modelgate replicas from this Dockerfile, with its production start', () => {
    expect(gateways.map(([name]) => name)).toHaveLength(2);
    for (const [, service] of gateways) expect(service.command).toBeUndefined();
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'unleash', 'haproxy']),
    );
  });

  it('configures them with names and values the config accepts, on one PostgreSQL', () => {
    for (const [name, service] of gateways) {
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [
          key,
          interpolateCompose(value, 'a-control-token-for-the-test'),
        ]),
      );
      expectKnownVariables(Object.keys(env), `compose service ${name}`);
      // The image's ENV, then the service's environment, as the container gets them.
      const config = readConfig({ ...imageEnv, ...env });
      expect(config.databaseUrl).toMatch(/@postgres:5432\//);
      expect(config.unleash?.url).toMatch(/^http:\/\/unleash:4242\//);
      expect(composeSeconds(service.stop_grace_period ?? '10s')).toBeGreaterThan(
        shutdownSeconds({ ...imageEnv, ...env }),
      );
      const mounts = (service.volumes ?? []).map((volume) => volume.split(':')[1] ?? '');
      expect(onVolume(config.spillDir, mounts)).toBe(true);
      expect(onVolume(config.modelsDir, mounts)).toBe(true);
    }
  });

  it('balances them with deploy/haproxy.cfg, pointed at their port, checking readiness', async () => {
    expect(haproxy?.volumes).toContain(
      './deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    );
    const cfg = readRepoFile('deploy/haproxy.cfg');
    const preset = [...cfg.matchAll(/^\s*presetenv\s+(\w+)/gm)].map((m) => m[1]);
    expect(Object.keys(haproxy?.environment ?? {}).sort()).toEqual(preset.sort());
    const port = readConfig({}).port;
    const replicas = Object.entries(haproxy?.environment ?? {})
      .filter(([key]) => key.startsWith('MODELGATE_REPLICA_'))
      .map(([, address]) => address);
    expect(replicas.sort()).toEqual(gateways.map(([name]) => `${name}:${port}`).sort());
    const grpcPort = readConfig({}).grpcPort;
    const grpcReplicas = Object.entries(haproxy?.environment ?? {})
      .filter(([key]) => key.startsWith('MODELGATE_GRPC_REPLICA_'))
      .map(([, address]) => address);
    expect(grpcReplicas.sort()).toEqual(gateways.map(([name]) => `${name}:${grpcPort}`).sort());
    const check = /option httpchk GET (\S+)/.exec(cfg)?.[1] ?? '';
    expect(check).toBe('/v2/health/ready');
    await expectServed(check);
  });
});
