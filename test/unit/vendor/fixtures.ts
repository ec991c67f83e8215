// Fixtures for the vendor tests: a bare git repository of terraform modules tagged v1.3.5 and v1.5.0,
// consumer repositories with a deployment that vendors them, archives, and a local HTTP server.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { git, initRepo, tempDir, writeFiles } from '../../helpers/repo.js';

export function moduleFiles(version: string): Record<string, string> {
  return {
    'main.tf': `resource "terraform_data" "service" {\n  input = var.name\n}\n`,
    'variables.tf': `variable "name" {\n  type    = string\n  default = "svc"\n}\n`,
    'outputs.tf': `output "module_version" {\n  value = "${version}"\n}\n`,
    'README.md': `# ecs-service ${version}\n`,
  };
}

/** A bare repository `modules.git` with `ecs-service/` and `ecr/` at tags v1.3.5 and v1.5.0; returns its file:// URL. */
export function moduleRepo(): { url: string; bare: string; work: string } {
  const work = initRepo({});
  for (const version of ['v1.3.5', 'v1.5.0']) {
    const files: Record<string, string> = {};
    for (const [k, v] of Object.entries(moduleFiles(version))) files[`ecs-service/${k}`] = v;
    files['ecr/main.tf'] = `output "ecr" {\n  value = "${version}"\n}\n`;
    writeFiles(work, files);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `release ${version}`);
    git(work, 'tag', version);
  }
  const bare = `${tempDir()}/modules.git`;
  git(work, 'clone', '-q', '--bare', work, bare);
  return { url: pathToFileURL(bare).href, bare, work };
}

/** Moves tag `version` of the module repository to new content (a re-tagged release). */
export function retag(repo: { bare: string; work: string }, version: string): void {
  writeFiles(repo.work, { 'ecs-service/main.tf': `# retagged\nresource "terraform_data" "service" {}\n` });
  git(repo.work, 'add', '-A');
  git(repo.work, 'commit', '-q', '-m', 'retag');
  git(repo.work, 'tag', '-f', version);
  git(repo.work, 'push', '-q', '-f', repo.bare, `refs/tags/${version}`);
}

export const ATMOS_YAML = `base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\nstacks:\n  base_path: stacks\ndeployments:\n  base_path: deployments\n`;

/** A deployment `shop` whose dev runs ecs-service v1.5.0 and prod v1.3.5, vendored from `url`. */
export function shopDeployment(url: string, extra = ''): string {
  return `deployment:
  name: shop
  vendor:
    components:
      - source: "git::${url}//ecs-service?ref={{ .Version }}"
        version: v1.5.0
        targets: [ecs-service]
        labels:
          environment: [dev, staging]
      - source: "git::${url}//ecs-service?ref={{ .Version }}"
        version: v1.3.5
        targets: [ecs-service]
        labels:
          environment: prod
        excluded_paths: ["**/*.md"]
${extra}  components:
    terraform:
      ecs-service:
        vars:
          name: shop
  targets:
    dev:
      labels: { environment: dev }
    staging:
      labels: { environment: staging }
    prod:
      labels: { environment: prod }
`;
}

export function consumerRepo(deployment: string, files: Record<string, string> = {}): string {
  return initRepo({ 'atmos.yaml': ATMOS_YAML, 'deployments/shop.yaml': deployment, 'stacks/.keep': '', ...files });
}

/** A directory holding a `git` that records each call in `log` and runs the real git. */
export function recordingGit(): { bin: string; log: string } {
  const bin = tempDir('git-wrapper-');
  const log = join(bin, 'calls.log');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${real}" "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  writeFileSync(log, '');
  return { bin, log };
}

export interface TarEntry {
  name: string;
  content?: string;
  type?: 'file' | 'symlink' | 'directory' | 'link';
  linkname?: string;
  mode?: number;
}

export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const tarStream = await import('tar-stream');
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.content ?? '');
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? 0o755 });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export async function zip(files: Record<string, string>): Promise<Buffer> {
  const { zipSync, strToU8 } = await import('fflate');
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)]))));
}

/** Serves `routes` (path → bytes) on 127.0.0.1; counts requests. */
export async function serve(routes: Record<string, Buffer>): Promise<{ url: string; server: Server; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = routes[path];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server, hits };
}

export function mkdirp(path: string): void {
  mkdirSync(path, { recursive: true });
}
