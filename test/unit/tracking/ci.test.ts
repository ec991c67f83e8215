import { describe, expect, it } from 'vitest';
import { ciContext } from '../../../src/tracking/ci.js';

describe('ciContext', () => {
  it('is undefined outside GitHub Actions and GitLab CI', () => {
    expect(ciContext({ CI: 'true', BUILDKITE_BUILD_URL: 'https://buildkite.example.com/1' })).toBeUndefined();
  });

  it('links a GitHub Actions run; a push has no pull request; empty variables count as unset', () => {
    expect(
      ciContext({ GITHUB_RUN_ID: '9', GITHUB_SERVER_URL: 'https://ghe.example.com/', GITHUB_REPOSITORY: 'a/b', GITHUB_REF: 'refs/heads/main', GITHUB_ACTOR: '' }),
    ).toEqual({ system: 'github-actions', run_url: 'https://ghe.example.com/a/b/actions/runs/9' });
    expect(ciContext({ GITHUB_RUN_ID: '9', GITHUB_REPOSITORY: 'a/b', GITHUB_REF: 'refs/pull/12/head' })).toMatchObject({
      run_url: 'https://github.com/a/b/actions/runs/9',
      pull_request: 12,
    });
  });

  it('takes a GitLab merge request IID only when it is a number', () => {
    expect(ciContext({ CI_PIPELINE_URL: 'https://gitlab.example.com/p/-/pipelines/3', CI_MERGE_REQUEST_IID: 'x' })).toEqual({
      system: 'gitlab-ci',
      pipeline_url: 'https://gitlab.example.com/p/-/pipelines/3',
    });
  });
});
