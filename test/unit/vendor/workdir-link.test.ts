// Working directories of vendored components: hard links to the cache object, except the files a run
// writes (copied, so writing them never reaches the object), and never another run's .terraform or state.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkdir } from '../../../src/engine/workdir.js';
import { digestTree, linkTree } from '../../../src/vendor/tree.js';
import { removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const dirs: string[] = [];
const temp = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach(removeDir));

const files = {
  'main.tf': 'resource "terraform_data" "x" {}\n',
  'modules/a/b.tf': 'output "b" { value = 1 }\n',
  '.terraform.lock.hcl': '# lock of the module author\n',
  'backend.tf.json': '{"terraform":{}}\n',
  '.terraform/modules/modules.json': '{}',
  'terraform.tfstate': '{}',
  'sub/terraform.tfstate.backup': '{}',
};

describe('createWorkdir for a vendored component', () => {
  it('links the object files, copies the files a run writes, and leaves out .terraform and state', async () => {
    const root = temp();
    const object = join(root, '.atmos/vendor-cache', 'a'.repeat(64));
    writeFiles(object, files);
    const before = await digestTree(object);
    const dir = await createWorkdir({ root, deployment: 'web', target: 'dev' }, { key: 'terraform/svc', name: 'svc', directory: object });

    for (const linked of ['main.tf', 'modules/a/b.tf']) expect(statSync(join(dir, linked)).ino).toBe(statSync(join(object, linked)).ino);
    for (const copied of ['.terraform.lock.hcl', 'backend.tf.json']) {
      expect(statSync(join(dir, copied)).ino).not.toBe(statSync(join(object, copied)).ino);
      expect(readFileSync(join(dir, copied), 'utf8')).toBe(files[copied as keyof typeof files]);
    }
    for (const absent of ['.terraform', 'terraform.tfstate', 'sub/terraform.tfstate.backup']) expect(existsSync(join(dir, absent))).toBe(false);

    // What terraform init and the generated files do to the working directory stays there.
    writeFileSync(join(dir, '.terraform.lock.hcl'), 'rewritten by terraform init\n');
    writeFileSync(join(dir, 'backend.tf.json'), '{"generated":true}\n');
    expect(await digestTree(object)).toEqual(before);
  });

  it('copies a component directory of the repository (not in the vendor cache)', async () => {
    const root = temp();
    const component = join(root, 'components/terraform/svc');
    writeFiles(component, files);
    const dir = await createWorkdir({ root, deployment: 'web', target: 'dev' }, { key: 'terraform/svc', name: 'svc', directory: component });
    expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toBe(files['main.tf']);
    expect(statSync(join(dir, 'main.tf')).ino).not.toBe(statSync(join(component, 'main.tf')).ino);
    expect(existsSync(join(dir, '.terraform'))).toBe(false);
    expect(existsSync(join(dir, 'terraform.tfstate'))).toBe(false);
  });

  it('treats a directory that only looks like a cache object outside this repository as a plain component', async () => {
    const other = temp();
    const object = join(other, '.atmos/vendor-cache', 'b'.repeat(64));
    writeFiles(object, { 'main.tf': 'x' });
    const root = temp();
    const dir = await createWorkdir({ root, deployment: 'web', target: 'dev' }, { key: 'terraform/svc', name: 'svc', directory: object });
    expect(statSync(join(dir, 'main.tf')).ino).not.toBe(statSync(join(object, 'main.tf')).ino);
  });
});

describe('linkTree options', () => {
  it('skips whole directories and copies the files asked for', async () => {
    const from = temp();
    writeFiles(from, { 'keep/a.tf': 'a', 'drop/b.tf': 'b', 'drop/deeper/c.tf': 'c', 'copy.txt': 'd' });
    const to = join(temp(), 'out');
    const counts = await linkTree(from, to, { skip: (e) => e.path === 'drop', copy: (e) => e.path === 'copy.txt' });
    expect(counts).toEqual({ linked: 1, copied: 1 });
    expect(existsSync(join(to, 'drop'))).toBe(false);
    expect(statSync(join(to, 'keep/a.tf')).ino).toBe(statSync(join(from, 'keep/a.tf')).ino);
    expect(statSync(join(to, 'copy.txt')).ino).not.toBe(statSync(join(from, 'copy.txt')).ino);
  });
});
