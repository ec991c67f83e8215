// GitHub Actions workflow commands (https://docs.github.com/actions/reference/workflow-commands):
// annotations that put an error on the line of the file that caused it, and collapsible groups.
// Written only when GITHUB_ACTIONS is "true", so other CI systems and terminals never see them.
import { appendFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { AtmosError, SourceLocation } from '../util/errors.js';
import { isInside } from '../util/paths.js';

export function inGithubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

const escapeData = (text: string) => text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escapeProperty = (text: string) => escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');

/** `::error file=…,line=…,col=…,title=…::message`, the file relative to the workspace (the checkout). */
export function annotation(message: string, options: { title?: string; location?: SourceLocation; env: NodeJS.ProcessEnv; cwd: string }): string {
  const props: string[] = [];
  if (options.location) {
    const root = options.env.GITHUB_WORKSPACE || options.cwd;
    const file = isInside(root, options.location.file) ? relative(root, options.location.file) : options.location.file;
    props.push(`file=${escapeProperty(file)}`, `line=${options.location.line}`, `col=${options.location.col}`);
  }
  if (options.title) props.push(`title=${escapeProperty(options.title)}`);
  return `::error${props.length ? ` ${props.join(',')}` : ''}::${escapeData(message)}\n`;
}

/** One annotation per located problem of a configuration error (one for the error when it has none). */
export function errorAnnotations(error: AtmosError, env: NodeJS.ProcessEnv, cwd: string): string {
  const title = `error[${error.code}]`;
  const problems = error.problems.length > 1 ? error.problems : [{ message: error.message, location: error.location ?? error.problems[0]?.location, hint: error.hint ?? error.problems[0]?.hint }];
  return problems.map((p) => annotation(p.hint ? `${p.message} (${p.hint})` : p.message, { title, location: p.location, env, cwd })).join('');
}

/** A collapsible block in the job log: written at once, so concurrent components never interleave inside it. */
export function group(title: string, body: string): string {
  return `::group::${escapeData(title)}\n${body.endsWith('\n') || body === '' ? body : `${body}\n`}::endgroup::\n`;
}

/** Appends Markdown to the job summary when GitHub Actions gives one (GITHUB_STEP_SUMMARY). */
export async function appendStepSummary(env: NodeJS.ProcessEnv, markdown: string): Promise<void> {
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

/** A Markdown table; `|` and line breaks in cells are escaped. */
export function markdownTable(columns: string[], rows: string[][]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---|').join('')}`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
