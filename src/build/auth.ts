// Registry credentials as docker and podman keep them: $DOCKER_CONFIG/config.json (or
// ~/.docker/config.json) credHelpers → credsStore → auths, then $REGISTRY_AUTH_FILE.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../util/exec.js';
import { stepError } from '../util/errors.js';

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages (never the secret). */
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Keys a registry may be written under in `auths` (docker.io has its historical name). */
function keysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  if (registry === 'docker.io' || registry === 'registry-1.docker.io' || registry === 'index.docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io');
  return keys;
}

async function readJson(file: string): Promise<DockerConfig | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DockerConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stepError('E_REGISTRY_AUTH_FILE', `cannot read registry credentials from ${file}: ${(error as Error).message}`, {
      hint: 'fix or remove the file',
    });
  }
}

export async function findCredentials(registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const dockerFile = join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
  const docker = await readJson(dockerFile);
  if (docker) {
    const helper = keysFor(registry).map((k) => docker.credHelpers?.[k]).find(Boolean) ?? docker.credsStore;
    if (helper) {
      const fromHelper = await fromCredentialHelper(helper, registry, env);
      if (fromHelper) return fromHelper;
    }
    const fromAuths = fromAuthsSection(docker, registry, dockerFile);
    if (fromAuths) return fromAuths;
  }
  if (env.REGISTRY_AUTH_FILE) {
    const podman = await readJson(env.REGISTRY_AUTH_FILE);
    if (podman) return fromAuthsSection(podman, registry, env.REGISTRY_AUTH_FILE);
  }
  return undefined;
}

function fromAuthsSection(config: DockerConfig, registry: string, file: string): Credentials | undefined {
  for (const key of keysFor(registry)) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source: file };
  }
  return undefined;
}

async function fromCredentialHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const program = `docker-credential-${helper}`;
  const result = await exec(program, ['get'], { input: registry, env, check: false }).catch((error: unknown) => {
    throw stepError('E_REGISTRY_CRED_HELPER', `credential helper ${program} is configured for ${registry} but cannot run`, {
      hint: `install ${program}, or remove it from the docker config.json`,
      cause: error,
    });
  });
  // Helpers answer "credentials not found" with a non-zero exit: fall through to auths.
  if (result.code !== 0) return undefined;
  try {
    const value = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
    if (value.Secret === undefined) return undefined;
    return { username: value.Username ?? '', password: value.Secret, source: program };
  } catch {
    throw stepError('E_REGISTRY_CRED_HELPER', `credential helper ${program} gave an answer that is not JSON`);
  }
}
