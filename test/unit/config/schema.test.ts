import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import AjvModule from 'ajv';
import { parse } from 'yaml';
import { deploymentSchema } from '../../../src/config/schema.js';
import { PROJECT_ROOT } from '../../helpers/repo.js';
import { GOOD_DEPLOYMENT } from './fixture.js';

const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(deploymentSchema);

// Editors see tagged values as strings; so does this parse.
const tags = ['!env', '!include', '!exec', '!template', '!terraform.output', '!terraform.state', '!unset', '!literal'].map((tag) => ({
  tag,
  resolve: (s: string) => s,
}));
const load = (text: string) => parse(text, { customTags: tags });

describe('deployment JSON Schema', () => {
  it('is published unchanged at schemas/deployment.schema.json (regenerate with npx tsx scripts/write-schema.ts)', () => {
    const published = JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas/deployment.schema.json'), 'utf8'));
    expect(published).toEqual(deploymentSchema);
  });

  it('accepts valid deployment files', () => {
    expect(validate(load(GOOD_DEPLOYMENT)), JSON.stringify(validate.errors)).toBe(true);
    const example = readFileSync(join(PROJECT_ROOT, 'examples/payment-service/deployments/payment-service.yaml'), 'utf8');
    expect(validate(load(example)), JSON.stringify(validate.errors)).toBe(true);
    const minimal = 'deployment:\n  name: x\n  targets:\n    dev:\n    prod: { replicas: 3, region: eu }\n';
    expect(validate(load(minimal)), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown key', 'deployment:\n  name: x\n  descripton: y\n', 'additionalProperties'],
    ['a wrong type', 'deployment:\n  name: x\n  stacks: vpc\n', 'type'],
    ['a missing name', 'deployment:\n  description: y\n', 'required'],
    ['a bad target name', 'deployment:\n  name: x\n  targets:\n    Prod: {}\n', 'pattern'],
    ['from with allowed_from', 'deployment:\n  name: x\n  targets:\n    a: {}\n    b: { promotion: { from: a, allowed_from: [a] } }\n', 'not'],
    ['a full-form target with a context key', 'deployment:\n  name: x\n  targets:\n    a: { context: {}, cpu: 1 }\n', 'additionalProperties'],
    ['a bad depends_on entry', 'deployment:\n  name: x\n  components:\n    terraform:\n      a: { metadata: { depends_on: [b] } }\n', 'pattern'],
    ['an unknown promote_by', 'deployment:\n  name: x\n  context: { promote_by: sha }\n', 'enum'],
  ])('rejects %s', (_what, text, keyword) => {
    expect(validate(load(text))).toBe(false);
    expect(validate.errors!.map((e) => e.keyword)).toContain(keyword);
  });
});
