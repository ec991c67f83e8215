// A small repository shared by the config tests: one valid deployment, stacks and a service.
export const GOOD_DEPLOYMENT = `# yaml-language-server: $schema=../schemas/deployment.schema.json
deployment:
  name: payment-service
  description: Payment processing REST API
  labels:
    team: payments
  stacks:
    - platform/vpc
    - catalog/*
    - ecr.yml
  context:
    default_target: dev
  components:
    nixpack:
      api:
        vars:
          source: ./services/api
        metadata:
          depends_on: [terraform/ecr/api]
    terraform:
      ecr/api:
        vars:
          name: payment-api
      ecs/service-api:
        component: ecs-service
        vars:
          image: "{{ nixpack.api.image }}"
          region: !env AWS_REGION
        metadata:
          depends_on: ["terraform/ecr/api", "nixpack/api"]
          terraform_workspace: legacy
          custom: { atmos_key: kept }
  targets:
    dev: { cpu: 256, memory: 512 }
    staging:
      labels: { environment: staging }
      context: { cpu: 512 }
      promotion: { from: dev }
    qa:
      promotion: { allowed_from: [dev] }
    prod:
      context: { cpu: 2048 }
      promotion:
        allowed_from: [staging, qa]
        requires_approval: true
        approval_method: manual
      components:
        terraform:
          ecs/service-api:
            vars: { desired_count: 8 }
`;

export const BASE_FILES: Record<string, string> = {
  'deployments/payment-service.yaml': GOOD_DEPLOYMENT,
  'stacks/platform/vpc.yaml': 'vars: {}\n',
  'stacks/catalog/ecr.yaml': 'components: {}\n',
  'stacks/catalog/ecs.yml': 'components: {}\n',
  'stacks/ecr.yml': 'vars: {}\n',
  'services/api/package.json': '{}\n',
};
