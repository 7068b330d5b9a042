// What the example's function needs, computed in code from its configuration: the same as
//   npx extension-secrets-policy --module examples/deploy/config.ts --region eu-west-1 --account 111122223333 \
//     --architecture arm64 --log-level info --kms-key-arn <key> --format json
import { extensionDeployment } from 'middy-extension-secrets/deploy'
import { cacheExpiry, extensionSettings, fetchData } from './config.js'

export const deployment = extensionDeployment(
  { fetchData, cacheExpiry },
  {
    region: 'eu-west-1',
    account: '111122223333',
    architecture: 'arm64',
    kmsKeyArns: ['arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    settings: extensionSettings,
  },
)
// deployment.layerArn, deployment.environment (name to value), deployment.policy (an IAM policy document)
