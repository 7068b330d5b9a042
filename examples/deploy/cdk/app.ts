// The CDK app: `npx cdk synth --app "npx tsx examples/deploy/cdk/app.ts"` (or `cdk deploy`), with the
// account and region of your AWS profile; the layer follows the region. Pass the secret's customer-managed
// key with `-c secretKmsKeyArn=...`, and `-c extensionLayerVersion=N` in a region whose version the
// package's table lacks.
import { App } from 'aws-cdk-lib'
import { OrdersStack } from './stack.js'

const app = new App()
const secretKmsKeyArn = app.node.tryGetContext('secretKmsKeyArn') as string | undefined
const extensionLayerVersion = app.node.tryGetContext('extensionLayerVersion') as string | undefined
new OrdersStack(app, 'OrdersStack', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...(secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn }),
  ...(extensionLayerVersion === undefined ? {} : { extensionLayerVersion: Number(extensionLayerVersion) }),
})
