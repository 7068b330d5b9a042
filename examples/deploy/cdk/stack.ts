// An AWS CDK stack for the HTTP API example (examples/http-api/handler.ts): a NodejsFunction bundled by
// esbuild, and extensionSecretsFor, which derives from the handler's configuration (../config.ts) the
// extension layer for the stack's region and the function's architecture, the layer's settings, and a
// role policy that grants exactly the values the handler reads. test/deploy.test.ts synthesizes it.
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib'
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2'
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs'
import type { Construct } from 'constructs'
import { extensionSecretsFor } from 'middy-extension-secrets/cdk'
import { cacheExpiry, extensionSettings, fetchData } from '../config.js'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface OrdersStackProps extends StackProps {
  /** The customer-managed KMS key of the secret, if it has one; AWS managed keys need no statement. */
  secretKmsKeyArn?: string
  /**
   * The layer version, for a region whose current version the package's table does not list (see
   * docs/deploying.md); the account and name still come from the table.
   */
  extensionLayerVersion?: number
}

export class OrdersStack extends Stack {
  readonly fn: NodejsFunction

  constructor(scope: Construct, id: string, props: OrdersStackProps = {}) {
    super(scope, id, props)

    this.fn = new NodejsFunction(this, 'Orders', {
      entry: path.join(here, '../../http-api/handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // The middleware keeps deadlineMargin (250 ms) of this free to report a failure cleanly.
      timeout: Duration.seconds(10),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        // esbuild from node_modules, never a Docker image.
        forceDockerBundling: false,
      },
    })

    // The layer for this stack's region and arm64, its TTLs in step with cacheExpiry, and the role's
    // least-privilege policy, all from the names in fetchData: nothing here to keep in step by hand.
    extensionSecretsFor(
      this.fn,
      { fetchData, cacheExpiry },
      {
        settings: extensionSettings,
        ...(props.secretKmsKeyArn === undefined ? {} : { kmsKeyArns: [props.secretKmsKeyArn] }),
        ...(props.extensionLayerVersion === undefined ? {} : { layerVersion: props.extensionLayerVersion }),
      },
    )

    const api = new HttpApi(this, 'Api')
    api.addRoutes({
      path: '/orders',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('OrdersIntegration', this.fn),
    })
    new CfnOutput(this, 'OrdersUrl', { value: `${api.apiEndpoint}/orders` })
  }
}
