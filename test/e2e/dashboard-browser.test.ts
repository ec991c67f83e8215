// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core. The site is
// generated from the bundled example (a build, rollouts to dev, staging and prod, an approval and a
// rollback) and opened from disk; the overview is checked against `status --format json`, a history
// entry and the diff page are reached by clicking, the keyboard and a phone width are tried, --serve is
// opened too, and 5,000 records are rendered and timed. Any console error or page error fails the
// test. Screenshots go to test-artifacts/dashboard/ (ignored by git; CI keeps them as artifacts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT, exampleRepo, git, gitEnv, removeDir, runCli, tempDir } from '../helpers/repo.js';
import { D, exampleWithHistory, serveDashboard, type ExampleHistory } from '../helpers/dashboard.js';
import { formatRecord } from '../../src/tracking/records.js';

const ARTIFACTS = join(PROJECT_ROOT, 'test-artifacts/dashboard');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
/** Console errors and page errors of every page opened in the current test. */
let errors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Not skipped when chromium is missing: CI installs it (.ci/run), so a missing browser fails here.
  // launch() gives the browser a new, empty profile of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(() => {
  expect(errors).toEqual([]);
  errors = [];
});

async function open(url: string, viewport = { width: 1280, height: 720 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // No network at all: any request that is not the site's own file fails the test.
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url()) && !r.url().startsWith('http://127.0.0.1:')) errors.push(`network request: ${r.url()}`);
  });
  await page.goto(url);
  return page;
}

describe('the dashboard of the example, in chromium', () => {
  let ex: ExampleHistory;
  let site: string;
  let index: string;
  let status: { targets: { target: string; components: { component: string; commit: string | null; deployed_by: string | null; images: Record<string, string>; rollback_of: string | null; promoted_from: string | null; approval: unknown }[] }[] };
  beforeAll(async () => {
    ex = await exampleWithHistory();
    site = join(tempDir('atmos-site-'), 'site');
    const r = await runCli(['deployment', 'dashboard', '--out', site], { cwd: ex.dir });
    if (r.code !== 0) throw new Error(`dashboard exited ${r.code}\n${r.stderr}`);
    index = pathToFileURL(join(site, 'index.html')).href;
    const s = await runCli(['deployment', 'status', D, '--format', 'json'], { cwd: ex.dir });
    status = JSON.parse(s.stdout);
  }, 240_000);
  afterAll(() => {
    removeDir(ex.dir);
    removeDir(join(site, '..'));
  });

  it('shows in each overview cell what status --format json says the target runs', async () => {
    const page = await open(`${index}#/`);
    await page.waitForSelector('table.overview');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png') });
    let cells = 0;
    for (const t of status.targets) {
      for (const c of t.components) {
        const cell = page.locator(`table.overview td[data-target="${t.target}"][data-component="${c.component}"]`);
        expect(await cell.getAttribute('data-commit')).toBe(c.commit);
        const text = (await cell.innerText()).replace(/\s+/g, ' ');
        expect(text).toContain(c.commit!.slice(0, 12));
        expect(text).toContain(c.deployed_by!);
        expect(text).toMatch(/\d+[smhd] ago/);
        for (const image of Object.values(c.images)) expect(text).toContain(image.slice(image.indexOf('@') + 1, image.indexOf('@') + 20));
        if (c.rollback_of) expect(text).toContain(`rollback of ${c.rollback_of.slice(0, 12)}`);
        if (c.promoted_from) expect(text).toContain(`from ${c.promoted_from}`);
        expect(text.includes('approved')).toBe(c.approval !== null);
        cells++;
      }
    }
    expect(cells).toBe(15);
    // The example's marks, as the scenario made them.
    expect(await page.locator('td[data-target="dev"][data-component="api"]').innerText()).toContain(`rollback of ${ex.second.slice(0, 12)}`);
    expect(await page.locator('td[data-target="prod"][data-component="vpc"]').innerText()).toContain('approved');
    expect(await page.locator('td[data-target="staging"][data-component="vpc"]').innerText()).toContain('from dev');
    await page.close();
  });

  it('goes from an overview cell to that history, to one record with its approval, SBOM and tag message', async () => {
    const page = await open(`${index}#/`);
    await page.click('td[data-target="prod"][data-component="api"] a');
    await page.waitForSelector('#timeline tr.s-success');
    expect(await page.locator('select[name=target]').inputValue()).toBe('prod');
    expect(await page.locator('select[name=component]').inputValue()).toBe('api');
    expect(await page.locator('#count').innerText()).toBe('1 of 25 records');
    expect(await page.locator('svg.promotion-graph g.edge-ready[data-from="dev"][data-to="staging"]').count()).toBe(1);
    expect(await page.locator('table.edges').innerText()).toContain(`atmos deployment rollout ${D} --target staging --promote-from dev`);
    await page.screenshot({ path: join(ARTIFACTS, 'deployment.png'), fullPage: true });

    await page.click('#timeline a');
    await page.waitForSelector('h2:text("Tag message")');
    const text = await page.locator('main').innerText();
    expect(text).toContain('prod / api');
    expect(text).toContain(ex.second);
    expect(text).toMatch(/approved by\s+alice@example\.com/);
    expect(text).toContain('CAB-7 signed off');
    expect(text).toContain('promoted_from: staging');
    expect(text).toMatch(/nixpack\/api \(container\).* \d+ packages?, \d+ direct/);
    await page.screenshot({ path: join(ARTIFACTS, 'record.png'), fullPage: true });

    // Filters: the status and the date range narrow the timeline; clearing shows everything again.
    await page.goBack();
    await page.waitForSelector('#filters');
    await page.selectOption('select[name=target]', '');
    await page.selectOption('select[name=component]', '');
    expect(await page.locator('#count').innerText()).toBe('25 of 25 records');
    await page.fill('input[name=since]', '2999-01-01');
    await page.locator('input[name=since]').dispatchEvent('change');
    expect(await page.locator('#count').innerText()).toBe('0 of 25 records');
    await page.selectOption('select[name=status]', 'success');
    await page.click('#clear');
    expect(await page.locator('#count').innerText()).toBe('25 of 25 records');
    expect(await page.locator('input[name=since]').inputValue()).toBe('');
    await page.close();
  });

  it('shows the diff between two targets: commits, components, images, configuration and packages', async () => {
    const page = await open(`${index}#/d/${D}`);
    await page.click('.pairs a:text("dev → prod")');
    await page.waitForSelector('h2:text("Packages")');
    const main = await page.locator('main').innerText();
    expect(main).toContain('dev → prod');
    // prod runs the second commit, dev went back to the first.
    expect(await page.locator('#commits-to').innerText()).toContain('api: second release');
    expect(await page.locator('#components').innerText()).toContain('commit, image');
    const digest = (target: string) => {
      const image = status.targets.find((t) => t.target === target)!.components.find((c) => c.component === 'api')!.images.api!;
      return image.slice(image.indexOf('@') + 1, image.indexOf('@') + 20);
    };
    expect(await page.locator('#images').innerText()).toContain(digest('dev'));
    expect(await page.locator('#images').innerText()).toContain(digest('prod'));
    expect(await page.locator('#config').innerText()).toMatch(/vars\.replicas\s+1\s+8/);
    expect(main).toMatch(/\d+ added, \d+ removed, \d+ changed/);
    await page.screenshot({ path: join(ARTIFACTS, 'diff.png'), fullPage: true });
    await page.close();
  });

  it('is usable with the keyboard alone', async () => {
    const page = await open(`${index}#/`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('skip');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Tab reaches the first overview cell; Enter opens its history.
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.classList.contains('cell-link'))); i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('td')?.dataset.target)).toBe('dev');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#timeline');
    expect(page.url()).toContain(`#/d/${D}?target=dev&component=vpc`);
    expect(await page.locator('#count').innerText()).toBe('3 of 25 records');
    await page.close();
  });

  it('fits a phone width: the page does not scroll sideways (wide tables scroll in their box)', async () => {
    for (const [name, hash] of [['overview', '#/'], ['deployment', `#/d/${D}`], ['diff', `#/d/${D}/diff/staging/prod`]]) {
      const page = await open(`${index}${hash}`, { width: 390, height: 844 });
      await page.waitForSelector('main h1');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(ARTIFACTS, `phone-${name}.png`), fullPage: true });
      await page.close();
    }
  });

  it('--serve serves the same site to the browser, under its content security policy', async () => {
    const server = await serveDashboard(ex.dir);
    let code: number | null;
    try {
      const page = await open(`${server.base}#/d/${D}`);
      await page.waitForSelector('#timeline tr.s-success');
      expect(await page.locator('#count').innerText()).toBe('25 of 25 records');
      expect(await page.locator('svg.promotion-graph g.node').count()).toBe(3);
      await page.close();
    } finally {
      code = await server.stop();
    }
    expect(code).toBe(0);
  }, 120_000);
});

describe('the dashboard of 5,000 records, in chromium', () => {
  const N = 5000;
  let dir: string;
  let site: string;
  beforeAll(async () => {
    dir = exampleRepo();
    records(dir, N);
    site = join(tempDir('atmos-site-'), 'site');
    const r = await runCli(['deployment', 'dashboard', '--out', site, '--offline'], { cwd: dir });
    if (r.code !== 0) throw new Error(`dashboard exited ${r.code}\n${r.stderr}`);
  }, 240_000);
  afterAll(() => {
    removeDir(dir);
    removeDir(join(site, '..'));
  });

  it('opens the history of every record at once, rows added as they scroll in (figures in test-artifacts/dashboard/timings.json)', async () => {
    const page = await open(`${pathToFileURL(join(site, 'index.html')).href}#/d/${D}`);
    await page.waitForSelector('#timeline tr.s-success');
    expect(await page.locator('#count').innerText()).toBe(`${N} of ${N} records`);
    expect(await page.locator('#timeline tr:not(.day)').count()).toBe(200);
    // From navigation start to the rendered page: reading data.js (every record), parsing it, rendering.
    const load = await page.evaluate(() => performance.getEntriesByName('atmos-rendered')[0]!.startTime);
    // A filter goes through all 5,000 records and renders again, layout included.
    const timed = await page.evaluate(() => {
      const select = document.querySelector<HTMLSelectElement>('select[name=target]')!;
      const time = (work: () => void) => {
        const t0 = performance.now();
        work();
        void document.body.offsetHeight;
        return performance.now() - t0;
      };
      const choose = (value: string) => () => {
        select.value = value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      };
      const oneTarget = time(choose('prod'));
      const count = document.getElementById('count')!.textContent;
      const all = time(choose(''));
      const everyRow = time(() => document.getElementById('all')!.click());
      return { oneTarget, count, all, everyRow };
    });
    expect(timed.count).toBe(`${Math.ceil((N - 2) / 3)} of ${N} records`);
    // Scrolling to the end adds the next rows; "show all" has put every record in the table.
    expect(await page.locator('#timeline tr:not(.day)').count()).toBe(N);
    const timings = {
      records: N,
      load_to_rendered_ms: Math.round(load),
      filter_one_target_ms: Math.round(timed.oneTarget),
      filter_all_ms: Math.round(timed.all),
      every_row_in_the_table_ms: Math.round(timed.everyRow),
      site_bytes: sizeOf(site),
      data_js_bytes: statSync(join(site, 'data.js')).size,
    };
    writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    console.log(`dashboard of ${N} records: ${JSON.stringify(timings)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'records-5000.png') });
    // A generous bound (the figures are reported, not asserted): a broken render takes far longer.
    expect(timed.all).toBeLessThan(5000);
    await page.close();
  }, 120_000);

  it('adds the next rows when the end of the timeline scrolls into view', async () => {
    const page = await open(`${pathToFileURL(join(site, 'index.html')).href}#/d/${D}?status=failed`);
    await page.waitForSelector('#timeline tr.s-failed');
    expect(await page.locator('#count').innerText()).toBe(`${Math.ceil(N / 17)} of ${N} records`);
    expect(await page.locator('#timeline tr.s-failed').count()).toBe(200);
    await page.locator('#more').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('#timeline tr.s-failed').length === 295);
    expect(await page.locator('#more').isHidden()).toBe(true);
    await page.close();
  });
});

/** `n` valid deployment records of the example, written in one git fast-import, and its deployed-now refs. */
function records(dir: string, n: number): void {
  const sha = git(dir, 'rev-parse', 'HEAD');
  const targets = ['dev', 'staging', 'prod'];
  const components: [string, string][] = [['vpc', 'terraform'], ['eks', 'terraform'], ['ecr/api', 'terraform'], ['ecs/service-api', 'terraform'], ['api', 'nixpack']];
  const lines: string[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const target = targets[i % 3]!;
    const [component, type] = components[Math.floor(i / 3) % 5]!;
    const timestamp = new Date(t0 + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = i % 17 === 0 ? 'failed' : 'success';
    const message = formatRecord('Deployment', {
      deployment: D,
      target,
      component,
      component_type: type,
      deployed_by: `user${i % 7}@example.com`,
      git_sha: sha,
      timestamp,
      status,
      ...(status === 'failed' ? { metadata: { error: `${component}: terraform apply failed` } } : {}),
    });
    const name = `atmos/deployments/${D}/${target}/${component.replace(/\//g, '%2F')}/${timestamp.replace(/:/g, '-')}`;
    lines.push(`tag ${name}`, `from ${sha}`, `tagger Test <test@example.com> ${Math.floor(Date.parse(timestamp) / 1000)} +0000`, `data ${Buffer.byteLength(message)}`, message);
  }
  for (const target of targets) for (const [component] of components) lines.push(`reset refs/atmos/deployments/${D}/${target}/${component.replace(/\//g, '%2F')}`, `from ${sha}`, '');
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: `${lines.join('\n')}\n`, env: gitEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git fast-import: ${r.stderr}`);
}

function sizeOf(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

