// Sensitive values stay hidden however terraform lays them out, with real terraform: a passphrase
// with spaces that terraform wraps inside its diagnostic, a multi-line (PEM-like) sensitive output
// that a dependent prints line by line, and a dependent that re-exports (or transforms) it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCli } from '../helpers/repo.js';
import { commitFiles, rolloutRepo } from '../fixtures/rollout/repo.js';

const PASSPHRASE = 'correct horse battery staple and seven more words that terraform has to wrap somewhere';
const SEED = 'pem-seed-7f3a';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** The lines of the issuer's sensitive `pem` output that are secret. */
const PEM_LINES = [sha(SEED), sha(`${SEED}x`)];

const MODULES = {
  'components/terraform/wrap/main.tf': `
variable "passphrase" {
  type      = string
  sensitive = true
}
resource "terraform_data" "wrap" {
  provisioner "local-exec" {
    command     = "echo \\"the passphrase is $P\\"; exit 1"
    environment = { P = var.passphrase }
  }
}
`,
  'components/terraform/issuer/main.tf': `
variable "seed" {
  type      = string
  sensitive = true
}
resource "terraform_data" "issuer" {
  input = "issuer"
}
output "pem" {
  value     = join("\\n", ["-----BEGIN PRIVATE KEY-----", sha256(var.seed), sha256("\${var.seed}x"), "-----END PRIVATE KEY-----"])
  sensitive = true
}
`,
  // Does not know its input is secret: prints it when it fails, and re-exports it.
  'components/terraform/consumer/main.tf': `
variable "key" {
  type = string
}
variable "fail" {
  type = bool
}
resource "terraform_data" "consumer" {
  input            = var.key
  triggers_replace = [var.fail]
  provisioner "local-exec" {
    command     = var.fail ? "echo \\"$KEY\\"; exit 1" : "true"
    environment = { KEY = var.key }
  }
}
output "id" {
  value = terraform_data.consumer.id
}
output "key_copy" {
  value = terraform_data.consumer.output
}
output "key_upper" {
  value = upper(var.key)
}
`,
};

const deployment = (name: string, fail: boolean) => `deployment:
  name: ${name}
  components:
    terraform:
      wrap:
        vars:
          passphrase: "${PASSPHRASE}"
      issuer:
        vars:
          seed: "${SEED}"
      consumer:
        vars:
          fail: ${fail}
          key: '{{ output "terraform/issuer" "pem" }}'
  targets:
    dev: {}
`;

/** No secret in the text, however it was wrapped or indented. */
function expectNoSecret(text: string): void {
  const flat = text.replace(/\s+/g, ' ');
  expect(flat).not.toContain(PASSPHRASE);
  for (const word of ['battery staple', 'terraform has to wrap']) expect(flat).not.toContain(word);
  for (const line of PEM_LINES) {
    expect(text).not.toContain(line);
    expect(text).not.toContain(line.toUpperCase());
  }
}

describe('redaction', () => {
  let repo: string;
  beforeAll(() => {
    repo = rolloutRepo({ failing: deployment('failing', true), passing: deployment('passing', false) });
    commitFiles(repo, MODULES);
  });
  afterAll(() => removeDir(repo));

  it('a sensitive value with spaces is blanked where terraform wraps its diagnostic', async () => {
    const r = await runCli(['deployment', 'rollout', 'failing', '--target', 'dev', '--component', 'wrap'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('terraform/wrap: terraform apply failed');
    expect(r.stderr).toContain('the passphrase is (sensitive value)');
    expectNoSecret(r.stdout + r.stderr);
  });

  it('each line of a multi-line sensitive output is blanked where a dependent prints it', async () => {
    const r = await runCli(['deployment', 'rollout', 'failing', '--target', 'dev', '--component', 'issuer', '--component', 'consumer'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('terraform/consumer: terraform apply failed');
    // terraform printed the value line by line, each behind its own prefix.
    expect(r.stderr).toContain('(local-exec): (sensitive value)');
    expectNoSecret(r.stdout + r.stderr);
  });

  it("a dependent's outputs that re-export or transform a sensitive value are treated as sensitive", async () => {
    const r = await runCli(['deployment', 'rollout', 'passing', '--target', 'dev', '--component', 'issuer', '--component', 'consumer', '--format', 'json'], {
      cwd: repo,
    });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { components: { component: string; outputs?: Record<string, unknown> }[] };
    const consumer = result.components.find((c) => c.component === 'terraform/consumer')!;
    expect(Object.keys(consumer.outputs!)).toEqual(['id']);
    expectNoSecret(r.stdout + r.stderr);
  });
});
