// Terraform and helmfile readers, image components, and the deployment documents: CycloneDX 1.6 and
// SPDX 2.3 valid against their official schemas, read back from CycloneDX, shown as the summary tree.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  cycloneDxDocument,
  diffSboms,
  fromCycloneDx,
  helmfileComponentSbom,
  nixpackComponentSbom,
  renderDiff,
  renderSummary,
  scanHelmfile,
  scanTerraform,
  spdxDocument,
  terraformComponentSbom,
  validateCycloneDx,
  validateSpdx,
  type DeploymentSbom,
} from '../../../src/sbom/index.js';
import { PROJECT_ROOT, removeDir, tempDir, writeFiles } from '../../helpers/repo.js';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/sbom');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('terraform', () => {
  it('module calls with versions from modules.json, providers with versions and hashes from the lock file', async () => {
    const scan = await scanTerraform(join(FIXTURES, 'terraform'));
    expect(scan.warnings).toEqual([]);
    const ecs = scan.packages.find((p) => p.name === 'ecs')!;
    // main.tf says "~> 5.2"; terraform init chose 5.2.0.
    expect(ecs).toMatchObject({ group: 'terraform-aws-modules', version: '5.2.0', purl: 'pkg:terraform/terraform-aws-modules/ecs/aws@5.2.0' });
    expect(ecs.dependsOn).toEqual(['terraform-module:ecs.cluster']); // nested module from modules.json
    const label = scan.packages.find((p) => p.name === 'terraform-null-label')!;
    expect(label).toMatchObject({ version: '0.25.0', purl: 'pkg:github/cloudposse/terraform-null-label@0.25.0' });
    expect(label.externalRefs).toEqual([{ type: 'vcs', url: 'https://github.com/cloudposse/terraform-null-label' }]);
    const aws = scan.packages.find((p) => p.purl === 'pkg:terraform/hashicorp/aws@5.31.0')!;
    expect(aws.hashes).toEqual([{ alg: 'SHA-256', content: Buffer.from('ltxyuBWIy9cq0kIKDJH1jeWJy/y7XJLjS4QrsQK4plA=', 'base64').toString('hex') }]);
    expect(aws.properties).toContainEqual(['atmos:terraform:hashes', expect.stringContaining('zh:0cdb9c2083bf')]);
    expect(scan.direct).toContain('terraform-module:ecs');
    expect(scan.direct).not.toContain('terraform-module:ecs.cluster');
  });
  it('without modules.json the version written in the module block is used', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, { 'main.tf': 'module "ecr" {\n  source  = "terraform-aws-modules/ecr/aws"\n  version = "2.0.0"\n}\n' });
      const scan = await scanTerraform(dir);
      expect(scan.packages.map((p) => p.purl)).toEqual(['pkg:terraform/terraform-aws-modules/ecr/aws@2.0.0']);
    } finally {
      removeDir(dir);
    }
  });
  it('a registry module with a version constraint and no modules.json: no version, the constraint kept, a warning', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, { 'main.tf': 'module "ecr" {\n  source  = "terraform-aws-modules/ecr/aws"\n  version = "~> 2.0"\n}\n' });
      const scan = await scanTerraform(dir);
      expect(scan.packages[0]).toMatchObject({ version: undefined, purl: 'pkg:terraform/terraform-aws-modules/ecr/aws' });
      expect(scan.packages[0]!.properties).toContainEqual(['atmos:terraform:constraint', '~> 2.0']);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings).toEqual([{ file: 'main.tf', line: 1, message: 'module "ecr": version "~> 2.0" is a constraint, not a version (the one terraform init chose is not known here)' }]);
    } finally {
      removeDir(dir);
    }
  });
  it('an unclosed block is a located warning and marks the inventory incomplete', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, { 'main.tf': 'resource "terraform_data" "x" {}\n\nmodule "ecr" {\n  source = "terraform-aws-modules/ecr/aws"\n' });
      const scan = await scanTerraform(dir);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings).toContainEqual(expect.objectContaining({ file: 'main.tf', line: 3 }));
    } finally {
      removeDir(dir);
    }
  });
});

describe('helmfile', () => {
  it('releases with chart and version; helmfile.lock wins over the constraint; templates tolerated', async () => {
    const scan = await scanHelmfile(join(FIXTURES, 'helmfile'));
    expect(scan.warnings).toEqual([]);
    const cache = scan.packages.find((p) => p.id === 'helm-release:cache')!;
    expect(cache).toMatchObject({ group: 'bitnami', name: 'redis', version: '18.1.5', purl: 'pkg:helm/redis@18.1.5?repository_url=https%3A%2F%2Fcharts.bitnami.com%2Fbitnami' });
    expect(cache.properties).toContainEqual(['atmos:helm:constraint', '~18.1.0']);
    expect(scan.packages.find((p) => p.id === 'helm-release:ingress')).toMatchObject({ name: 'nginx', version: '15.3.1' });
    expect(scan.direct).toEqual(['helm-release:cache', 'helm-release:ingress', 'helm-release:local-chart']);
  });
  it('a local chart: Chart.yaml name/version/appVersion, dependencies pinned by Chart.lock, images its values pin by digest', async () => {
    const scan = await scanHelmfile(join(FIXTURES, 'helmfile'));
    const worker = scan.packages.find((p) => p.id === 'helm-release:local-chart')!;
    expect(worker).toMatchObject({ name: 'worker', version: '1.4.2', source: 'charts/worker/Chart.yaml' });
    expect(worker.purl).toBeUndefined(); // a chart of the repository is published nowhere
    expect(worker.properties).toContainEqual(['atmos:helm:app-version', '2.0.1']);
    expect(worker.properties).toContainEqual(['atmos:helm:chart-path', 'charts/worker']);
    const pg = scan.packages.find((p) => p.name === 'postgresql')!;
    // Chart.yaml says ~13.2.0; Chart.lock pins 13.2.24; an OCI repository, with the reference helm pulls.
    expect(pg).toMatchObject({ version: '13.2.24', purl: 'pkg:helm/postgresql@13.2.24?repository_url=oci%3A%2F%2Fregistry-1.docker.io%2Fbitnamicharts' });
    expect(pg.externalRefs).toEqual([{ type: 'distribution', url: 'oci://registry-1.docker.io/bitnamicharts/postgresql:13.2.24' }]);
    const common = scan.packages.find((p) => p.name === 'common')!;
    expect(common).toMatchObject({ version: '0.1.0', source: 'charts/common/Chart.yaml' });
    const images = scan.packages.filter((p) => p.kind === 'container').map((p) => p.purl);
    expect(images.sort()).toEqual([
      `pkg:oci/migrate@sha256:${'2'.repeat(64)}?repository_url=ghcr.io%2Facme%2Fmigrate&tag=1.0`,
      `pkg:oci/statsd-exporter@sha256:${'3'.repeat(64)}?repository_url=docker.io%2Fprom%2Fstatsd-exporter`,
      `pkg:oci/worker@sha256:${'1'.repeat(64)}?repository_url=ghcr.io%2Facme%2Fworker&tag=2.0.1`,
    ]);
    // busybox:1.36 is pinned by tag only: not exact, not listed.
    expect(scan.packages.some((p) => p.name === 'busybox')).toBe(false);
    expect(worker.dependsOn.sort()).toEqual([common.id, pg.id, ...scan.packages.filter((p) => p.kind === 'container').map((p) => p.id)].sort());
    const oci = scan.packages.find((p) => p.id === 'helm-release:ingress')!;
    expect(oci.externalRefs).toEqual([{ type: 'distribution', url: 'oci://registry-1.docker.io/bitnamicharts/nginx:15.3.1' }]);
  });
  it('a chart from a repository with oci: true; an image pinned as tag@digest in inline values', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, {
        'helmfile.yaml': [
          'repositories:',
          '  - name: ecr',
          '    url: 123.dkr.ecr.eu-west-1.amazonaws.com/charts',
          '    oci: true',
          'releases:',
          '  - name: api',
          '    chart: ecr/api',
          '    version: 2.1.0',
          '    values:',
          '      - image:',
          '          repository: 123.dkr.ecr.eu-west-1.amazonaws.com/api',
          `          tag: "2.1.0@sha256:${'7'.repeat(64)}"`,
          '',
        ].join('\n'),
      });
      const scan = await scanHelmfile(dir);
      expect(scan.warnings).toEqual([]);
      const api = scan.packages.find((p) => p.id === 'helm-release:api')!;
      expect(api).toMatchObject({ version: '2.1.0', purl: 'pkg:helm/api@2.1.0?repository_url=oci%3A%2F%2F123.dkr.ecr.eu-west-1.amazonaws.com%2Fcharts' });
      expect(api.externalRefs).toEqual([{ type: 'distribution', url: 'oci://123.dkr.ecr.eu-west-1.amazonaws.com/charts/api:2.1.0' }]);
      const image = scan.packages.find((p) => p.kind === 'container')!;
      expect(image).toMatchObject({ version: `sha256:${'7'.repeat(64)}`, purl: `pkg:oci/api@sha256:${'7'.repeat(64)}?repository_url=123.dkr.ecr.eu-west-1.amazonaws.com%2Fapi&tag=2.1.0` });
      expect(image.properties).toEqual([['atmos:helm:values', 'helmfile.yaml (release api, values[0]): image']]);
      expect(api.dependsOn).toEqual([image.id]);
    } finally {
      removeDir(dir);
    }
  });
  it('a local chart without Chart.yaml, or a dependency without Chart.lock: warnings, incomplete', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, {
        'helmfile.yaml': 'releases:\n  - name: a\n    chart: ./charts/missing\n  - name: b\n    chart: ./charts/b\n',
        'charts/b/Chart.yaml': 'name: b\nversion: 1.0.0\ndependencies:\n  - name: redis\n    version: ">=18"\n    repository: https://charts.bitnami.com/bitnami\n',
      });
      const scan = await scanHelmfile(dir);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings.map((w) => `${w.file}: ${w.message}`)).toEqual([
        'charts/missing/Chart.yaml: the chart has no readable Chart.yaml: its version and dependencies are unknown',
        'charts/b/Chart.yaml: dependency redis: no pinned version (run `helm dependency update` to write Chart.lock)',
      ]);
    } finally {
      removeDir(dir);
    }
  });
  it('a release without a pinned version or lock: warning with its line, incomplete', async () => {
    const dir = tempDir();
    try {
      writeFiles(dir, { 'helmfile.yaml': 'repositories:\n  - name: bitnami\n    url: https://charts.bitnami.com/bitnami\nreleases:\n  - name: db\n    chart: bitnami/postgresql\n' });
      const scan = await scanHelmfile(dir);
      expect(scan.incomplete).toBe(true);
      expect(scan.warnings[0]).toMatchObject({ file: 'helmfile.yaml', line: 5 });
    } finally {
      removeDir(dir);
    }
  });
});

let sbom: DeploymentSbom;
beforeAll(async () => {
  const api = await nixpackComponentSbom({
    name: 'payment-api',
    sourceDir: join(FIXTURES, 'go'),
    aptPkgs: ['curl'],
    pkgs: ['go_1_21'],
    baseImage: 'debian:bookworm-slim',
    image: { digest: DIGEST, registry: '127.0.0.1:5000', repository: 'payment/api' },
    dependsOn: ['terraform/ecr'],
  });
  const ecs = await terraformComponentSbom({ name: 'ecs-service', directory: join(FIXTURES, 'terraform'), dependsOn: ['nixpack/payment-api'] });
  const cache = await helmfileComponentSbom({ name: 'cache', directory: join(FIXTURES, 'helmfile') });
  sbom = { deployment: 'payment-service', target: 'prod', commit: 'a'.repeat(40), timestamp: '2025-01-22T12:00:00.000Z', components: [api, ecs, cache] };
});

describe('images', () => {
  it('the image is a container with its digest as hash and a pkg:oci purl; base image and apt/nix packages inside', () => {
    const api = sbom.components[0]!;
    expect(api).toMatchObject({ kind: 'container', version: DIGEST, hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }] });
    expect(api.purl).toBe(`pkg:oci/api@${DIGEST}?repository_url=127.0.0.1%3A5000%2Fpayment%2Fapi`);
    expect(api.packages.map((p) => p.purl)).toEqual(
      expect.arrayContaining(['pkg:oci/debian?repository_url=docker.io%2Flibrary%2Fdebian&tag=bookworm-slim', 'pkg:deb/debian/curl', 'pkg:nix/go_1_21', 'pkg:golang/github.com/gin-gonic/gin@v1.9.1']),
    );
  });
});

describe('documents', () => {
  it('CycloneDX 1.6: valid against the official schema; nested components; graph mirrors depends_on', async () => {
    const doc = (await cycloneDxDocument(sbom)) as any;
    expect(doc.specVersion).toBe('1.6');
    expect(doc.metadata.component).toMatchObject({ name: 'payment-service', 'bom-ref': 'deployment/payment-service' });
    const api = doc.components.find((c: any) => c['bom-ref'] === 'nixpack/payment-api');
    expect(api.type).toBe('container');
    expect(api.components.some((p: any) => p.purl === 'pkg:golang/golang.org/x/net@v0.17.0')).toBe(true);
    const deps = new Map(doc.dependencies.map((d: any) => [d.ref, d.dependsOn ?? []]));
    expect(deps.get('deployment/payment-service')).toEqual(expect.arrayContaining(['nixpack/payment-api', 'terraform/ecs-service', 'helmfile/cache']));
    expect(deps.get('terraform/ecs-service')).toContain('nixpack/payment-api');
    expect(deps.get('terraform/ecs-service|terraform-module:ecs')).toEqual(['terraform/ecs-service|terraform-module:ecs.cluster']);
    expect(doc.compositions).toBeUndefined();
  });
  it('an invalid CycloneDX document is refused with its problems', async () => {
    await expect(validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x', bogus: true }] })).rejects.toMatchObject({
      code: 'E_SBOM_INVALID',
    });
  });
  it('an incomplete inventory is declared: property and compositions aggregate "incomplete"', async () => {
    const broken: DeploymentSbom = {
      ...sbom,
      components: [{ ...sbom.components[1]!, incomplete: true, warnings: [{ file: 'components/terraform/ecs/main.tf', line: 3, message: 'module block is not closed' }] }],
    };
    const doc = (await cycloneDxDocument(broken)) as any;
    expect(doc.compositions).toEqual([{ aggregate: 'incomplete', assemblies: ['terraform/ecs-service'] }]);
    expect(doc.metadata.component.properties).toContainEqual({ name: 'atmos:incomplete', value: 'true' });
    const back = fromCycloneDx(doc);
    expect(back.components[0]).toMatchObject({ incomplete: true, warnings: [{ file: 'components/terraform/ecs/main.tf', line: 3, message: 'module block is not closed' }] });
  });
  it('reads back into the same model (what notes are read with)', async () => {
    const back = fromCycloneDx(await cycloneDxDocument(sbom));
    expect(back.components.map((c) => c.key)).toEqual(['nixpack/payment-api', 'terraform/ecs-service', 'helmfile/cache']);
    const [a, b] = [sbom.components[0]!, back.components[0]!];
    expect(b.dependsOn).toEqual(a.dependsOn);
    expect(new Set(b.direct)).toEqual(new Set(a.direct));
    const sort = (list: typeof a.packages) => [...list].sort((x, y) => x.id.localeCompare(y.id)).map((p) => ({ ...p, properties: [...p.properties].sort(), dependsOn: [...p.dependsOn].sort() }));
    expect(sort(b.packages)).toEqual(sort(a.packages));
  });
  it('SPDX 2.3: valid against the SPDX 2.3 schema, with purls, checksums and relationships', async () => {
    const doc = (await spdxDocument(sbom)) as any;
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    const gin = doc.packages.find((p: any) => p.name === 'github.com/gin-gonic/gin');
    expect(gin.externalRefs[0]).toEqual({ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:golang/github.com/gin-gonic/gin@v1.9.1' });
    expect(gin.checksums[0].algorithm).toBe('SHA256');
    expect(doc.relationships.filter((r: any) => r.relationshipType === 'DEPENDS_ON').length).toBeGreaterThan(5);
    await expect(validateSpdx({ ...doc, spdxVersion: 7 })).rejects.toMatchObject({ code: 'E_SBOM_INVALID' });
  });
});

describe('summary and diff', () => {
  it('prints the tree of the mission document', () => {
    const text = renderSummary(sbom);
    expect(text).toMatch(/^Components: 3\n {2}payment-api \(container\)\n/);
    expect(text).toContain('  └── golang.org/x/net v0.17.0\n');
    expect(text).toContain('  └── github.com/gin-gonic/gin v1.9.1\n');
    expect(text).toContain('  ecs-service (terraform)');
    expect(text).toContain('  └── terraform-aws-modules/ecs v5.2.0\n');
    expect(text).toContain('  cache (helmfile)');
    expect(text).toContain('  └── bitnami/redis v18.1.5\n');
    // go.mod's indirect requirements are counted, not listed as direct
    expect(text).not.toContain('└── golang.org/x/text');
  });
  it('lists packages added, removed and changed between two targets', () => {
    const staging = structuredClone(sbom);
    const prod = structuredClone(sbom);
    const tf = prod.components[1]!;
    tf.packages = tf.packages.filter((p) => p.name !== 'random');
    tf.packages.find((p) => p.name === 'aws')!.version = '5.30.0';
    prod.components[2]!.packages.push({ ...prod.components[2]!.packages[0]!, id: 'helm-release:extra', name: 'memcached', version: '6.0.0' });
    const diff = diffSboms('prod', prod, 'staging', staging);
    expect(diff.changed).toEqual([{ component: 'terraform/ecs-service', name: 'hashicorp/aws', ecosystem: 'terraform-provider', from: '5.30.0', to: '5.31.0' }]);
    expect(diff.added).toEqual([{ component: 'terraform/ecs-service', name: 'hashicorp/random', ecosystem: 'terraform-provider', to: '3.6.0' }]);
    expect(diff.removed).toEqual([{ component: 'helmfile/cache', name: 'bitnami/memcached', ecosystem: 'helm', from: '6.0.0' }]);
    expect(renderDiff(diff)).toContain('  ~ terraform/ecs-service: hashicorp/aws v5.30.0 → v5.31.0');
  });
});
