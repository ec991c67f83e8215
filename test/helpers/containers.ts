// Container fixtures shared by the build tests: a busybox base image pushed to a test registry,
// and podman/buildah configured as CONTAINERS.md says works here (vfs storage, runc, no network
// namespace, cgroupfs) through CONTAINERS_CONF / CONTAINERS_STORAGE_CONF, the way a user would.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeImage } from '../../src/build/image.js';
import { collectTree, writeLayerFile } from '../../src/build/layer.js';
import { Layout } from '../../src/build/layout.js';
import { tempDir } from './repo.js';

/** A busybox base image (static busybox, with sh/httpd/wget/cat/ls links) written as an OCI layout, pushed with skopeo. */
export async function pushBusyboxBase(registry: string, cleanup: string[]): Promise<string> {
  const rootfs = tempDir();
  const out = tempDir();
  cleanup.push(rootfs, out);
  mkdirSync(join(rootfs, 'bin'));
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const tool of ['sh', 'httpd', 'wget', 'cat', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', tool));
  mkdirSync(join(rootfs, 'tmp'));
  const layout = new Layout(out);
  await layout.init();
  const temp = layout.tempPath();
  const layer = await writeLayerFile(temp, collectTree(rootfs, ''), { mtime: 0 });
  await layout.adopt(temp, layer.digest);
  const base = { ref: 'scratch', layers: [], diffIds: [], config: {}, architecture: 'amd64', os: 'linux' };
  const image = await writeImage(layout, base, [layer], { Env: ['PATH=/bin'], Cmd: ['sh'] }, 0);
  await layout.tag(image.manifest, '1');
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${out}:1`, `docker://${registry}/base/busybox:1`]);
  return `${registry}/base/busybox:1`;
}

/** containers.conf + storage.conf in `dir` (storage inside it); returns the environment that selects them. */
export function podmanEnv(dir: string): { CONTAINERS_CONF: string; CONTAINERS_STORAGE_CONF: string; PATH: string } {
  writeFileSync(join(dir, 'containers.conf'), '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]\nnetns = "none"\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\nrunroot = "${dir}/run"\ngraphroot = "${dir}/root"\n`);
  // RUN steps set up container networking with iptables, which lives in the sbin directories (on
  // root's PATH on a normal machine, not necessarily in a minimal CI environment).
  const path = [process.env.PATH ?? '', '/usr/sbin', '/sbin'].filter(Boolean).join(':');
  return { CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), PATH: path };
}
