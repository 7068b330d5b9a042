// The CDK app: `npx cdk synth --app "npx tsx examples/deploy/cdk/app.ts"` (or `cdk deploy`), with the
// account and region of your AWS profile. Pass the layer for your region with `-c extensionLayerArn=...`.
import { App } from 'aws-cdk-lib'
import { OrdersStack } from './stack.js'

const app = new App()
const extensionLayerArn = app.node.tryGetContext('extensionLayerArn') as string | undefined
const secretKmsKeyArn = app.node.tryGetContext('secretKmsKeyArn') as string | undefined
new OrdersStack(app, 'OrdersStack', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...(extensionLayerArn === undefined ? {} : { extensionLayerArn }),
  ...(secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn }),
})
