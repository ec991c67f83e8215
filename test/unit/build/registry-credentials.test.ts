// Where a registry's credentials may go when its Bearer challenge names a token realm.
import { describe, expect, it } from 'vitest';
import { realmMayReceiveCredentials, registryBaseUrl } from '../../../src/build/registry.js';

const may = (realm: string, registry: string, env: NodeJS.ProcessEnv = {}) => realmMayReceiveCredentials(new URL(realm), registryBaseUrl(registry, env));

describe('token realm credentials', () => {
  it('go to an https realm on any host', () => {
    expect(may('https://auth.docker.io/token', 'docker.io')).toBe(true);
    expect(may('https://auth.example.com/token', '127.0.0.1:5000')).toBe(true);
  });
  it('go over plain http only to the plain-http registry own host', () => {
    expect(may('http://127.0.0.1:6000/token', '127.0.0.1:5000')).toBe(true);
    expect(may('http://127.0.0.2:6000/token', '127.0.0.1:5000')).toBe(false);
    expect(may('http://registry.lab:6000/token', 'registry.lab:5000', { ATMOS_INSECURE_REGISTRIES: 'registry.lab:5000' })).toBe(true);
    // An https registry never has its credentials sent in clear, not even to its own host.
    expect(may('http://registry.example.com/token', 'registry.example.com')).toBe(false);
  });
});
