// The CI run a record was written from (GitHub Actions, GitLab CI), read from the variables each
// system sets, so a record links back to the job, its pull / merge request and who started it.

export interface CiContext {
  /** `github-actions` or `gitlab-ci`. */
  system: string;
  /** The job's page (GitHub: the workflow run; GitLab: the job). */
  run_url?: string;
  /** GitLab: the pipeline's page. */
  pipeline_url?: string;
  /** The pull request (GitHub) or merge request IID (GitLab) the run belongs to. */
  pull_request?: number;
  /** Who started the run (GITHUB_ACTOR, GITLAB_USER_LOGIN). */
  actor?: string;
}

/** The CI context of `env`, or undefined outside GitHub Actions and GitLab CI. Empty variables count as unset. */
export function ciContext(env: NodeJS.ProcessEnv): CiContext | undefined {
  const get = (name: string) => env[name]?.trim() || undefined;
  const number = (text: string | undefined) => (text && /^[1-9]\d{0,9}$/.test(text) ? Number(text) : undefined);
  if (get('GITHUB_RUN_ID')) {
    const server = get('GITHUB_SERVER_URL') ?? 'https://github.com';
    const repository = get('GITHUB_REPOSITORY');
    return compact({
      system: 'github-actions',
      run_url: repository ? `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${get('GITHUB_RUN_ID')}` : undefined,
      // pull_request events run on refs/pull/<n>/merge (or /head).
      pull_request: number(/^refs\/pull\/(\d+)\//.exec(get('GITHUB_REF') ?? '')?.[1]),
      actor: get('GITHUB_ACTOR'),
    });
  }
  if (get('CI_JOB_URL') || get('CI_PIPELINE_URL')) {
    return compact({
      system: 'gitlab-ci',
      run_url: get('CI_JOB_URL'),
      pipeline_url: get('CI_PIPELINE_URL'),
      pull_request: number(get('CI_MERGE_REQUEST_IID')),
      actor: get('GITLAB_USER_LOGIN'),
    });
  }
  return undefined;
}

function compact(context: CiContext): CiContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as unknown as CiContext;
}
