import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoTfvarsNames, moduleVariables, outputInputs } from '../../../src/model/terraform-variables.js';
import { removeDir, tempDir } from '../../helpers/repo.js';

describe('a module asked again in one process', () => {
  it('sees what its files say now: a file changed, added or removed since the last question', async () => {
    const root = tempDir();
    try {
      const dir = join(root, 'network');
      mkdirSync(dir);
      writeFileSync(join(dir, 'main.tf'), 'variable "name" {\n  type = string\n}\noutput "id" {\n  value = var.name\n}\n');
      writeFileSync(join(dir, 'terraform.tfvars'), 'name = "a"\n');
      const names = async () => [...((await moduleVariables(dir)) ?? new Map()).keys()].sort();
      expect(await names()).toEqual(['name']);
      expect(await outputInputs(dir)).toEqual(new Map([['id', new Set(['name'])]]));
      expect(await autoTfvarsNames(dir)).toEqual(new Set(['name']));

      // The same file rewritten: the new declarations, not the first answer.
      writeFileSync(join(dir, 'main.tf'), 'variable "name" {\n  type = string\n  sensitive = true\n}\nvariable "size" {\n  default = 1\n}\noutput "id" {\n  value = "${var.name}-${var.size}"\n}\n');
      writeFileSync(join(dir, 'terraform.tfvars'), 'size = 2\n');
      const declared = await moduleVariables(dir);
      expect([...declared!.keys()].sort()).toEqual(['name', 'size']);
      expect(declared!.get('name')).toMatchObject({ sensitive: true, hasDefault: false, line: 1 });
      expect(declared!.get('size')).toMatchObject({ sensitive: false, hasDefault: true, line: 5 });
      expect(await outputInputs(dir)).toEqual(new Map([['id', new Set(['name', 'size'])]]));
      expect(await autoTfvarsNames(dir)).toEqual(new Set(['size']));

      // A second file with the same text as the first: both declare, each named as its own file.
      writeFileSync(join(dir, 'extra.tf'), 'variable "zone" {}\n');
      writeFileSync(join(dir, 'more.tf'), 'variable "zone" {}\n');
      expect((await moduleVariables(dir))!.get('zone')).toMatchObject({ file: join(dir, 'extra.tf') });

      // A file removed: its variables are gone; the directory removed: none at all.
      rmSync(join(dir, 'extra.tf'));
      rmSync(join(dir, 'more.tf'));
      expect(await names()).toEqual(['name', 'size']);
      rmSync(dir, { recursive: true });
      expect(await moduleVariables(dir)).toBeUndefined();
    } finally {
      removeDir(root);
    }
  });

  it('hands out its own values: changing an answer does not change the next one', async () => {
    const root = tempDir();
    try {
      writeFileSync(join(root, 'main.tf'), 'variable "name" {}\noutput "id" {\n  value = var.name\n}\n');
      const first = (await moduleVariables(root))!;
      first.get('name')!.sensitive = true;
      first.delete('name');
      (await outputInputs(root)).get('id')!.add('other');
      expect((await moduleVariables(root))!.get('name')).toMatchObject({ sensitive: false });
      expect(await outputInputs(root)).toEqual(new Map([['id', new Set(['name'])]]));
    } finally {
      removeDir(root);
    }
  });
});
