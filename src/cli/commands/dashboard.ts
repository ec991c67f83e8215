// `atmos deployment dashboard [--out dir] [--deployment d] [--check-drift] [--serve [--port n]]`: a
// static site of what runs where, the promotion graph, history, records and diffs between targets,
// built from the JSON of status, history, promotion-graph, promotion-status, diff and sbom.
import { resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { configError } from '../../util/errors.js';
import { openDeployment } from '../../tracking/open.js';
import { openTracking } from '../../tracking/recorder.js';
import { openWorkspace } from '../../model/index.js';
import { GitRepo } from '../../tracking/git.js';

interface Options {
  out?: string;
  deployment?: string;
  checkDrift?: boolean;
  serve?: boolean;
  port?: string;
  offline?: boolean;
}

const DEFAULT_PORT = 8808;
/** How often --serve looks at the records (one for-each-ref and rev-parse). */
const POLL_MS = 1000;

export async function run(_args: string[], options: Options, ctx: CommandContext): Promise<number> {
  const port = options.port === undefined ? DEFAULT_PORT : Number(options.port);
  if (options.port !== undefined && !options.serve) throw configError('E_USAGE', '--port is an option of --serve', { hint: 'add --serve, or leave --port out' });
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw configError('E_USAGE', `--port ${options.port}: not a port number`, { hint: 'use a number from 1 to 65535, or 0 for any free port' });
  }
  const ws = await openWorkspace({ cwd: ctx.cwd, configFile: ctx.configFile, env: ctx.env, log: ctx.log, offline: options.offline });
  const root = ws.config.root;
  const out = resolve(ctx.cwd, options.out ?? resolve(root, '.atmos/dashboard'));
  // The records are fetched from the tracking remote once (unless --offline); every part then reads them locally.
  if (options.deployment) await openDeployment(ctx, options.deployment, { offline: options.offline });
  else await openTracking({ cwd: root, env: ctx.env, remote: ws.config.remote, signal: ctx.signal, log: ctx.log, fetch: true, offline: options.offline });
  const { generateSite } = await import('../dashboard/site.js');
  const generate = async () => {
    const started = Date.now();
    const summary = await generateSite(ctx, { out, deployment: options.deployment, checkDrift: options.checkDrift });
    ctx.log.info(
      `dashboard of ${summary.deployments.join(', ') || 'no deployments'}: ${summary.records} record${summary.records === 1 ? '' : 's'}, ${summary.files} files, ${(summary.bytes / 1024).toFixed(0)} KiB, in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  };
  if (!options.serve) {
    await generate();
    ctx.stdout.write(`${out}/index.html\n`);
    return 0;
  }

  const { staticServer, listen, recordsFingerprint } = await import('../dashboard/serve.js');
  const repo = new GitRepo(root, { env: ctx.env });
  let seen = await recordsFingerprint(repo);
  await generate();
  const server = staticServer(out);
  let taken: number;
  try {
    taken = await listen(server, port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw configError('E_USAGE', `cannot listen on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`, {
      hint: 'choose another --port (0 takes any free one)',
    });
  }
  ctx.stdout.write(`serving http://127.0.0.1:${taken}/ (read-only; generated again when the records change; Ctrl-C stops)\n`);
  // Polls until Ctrl-C; a failed generation is reported and the site served stays as it was.
  while (!ctx.signal.aborted) {
    await new Promise<void>((done) => {
      const timer = setTimeout(done, POLL_MS);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
    });
    if (ctx.signal.aborted) break;
    const now = await recordsFingerprint(repo);
    if (now === seen) continue;
    seen = now;
    try {
      await generate();
    } catch (error) {
      ctx.log.warn(`dashboard: generating again failed: ${(error as Error).message}`);
    }
  }
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
  return 0;
}
