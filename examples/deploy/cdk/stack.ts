// An AWS CDK stack for the HTTP API example (examples/http-api/handler.ts): a NodejsFunction bundled by
// esbuild, the Parameters and Secrets extension layer, its settings, and an execution role that may read
// exactly the three values the handler reads. tests: examples/deploy/deploy.test.ts synthesizes it.
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib'
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2'
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs'
import type { Construct } from 'constructs'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface OrdersStackProps extends StackProps {
  /**
   * The extension layer for the stack's region and the function's architecture (arm64 here). The
   * default is the us-east-1 arm64 layer as listed in January 2026; see docs/deploying.md to find yours.
   */
  extensionLayerArn?: string
  /** The customer-managed KMS key of the secret, if it has one; AWS managed keys need no statement. */
  secretKmsKeyArn?: string
}

export class OrdersStack extends Stack {
  readonly fn: NodejsFunction

  constructor(scope: Construct, id: string, props: OrdersStackProps = {}) {
    super(scope, id, props)
    const layerArn =
      props.extensionLayerArn ??
      'arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24'

    this.fn = new NodejsFunction(this, 'Orders', {
      entry: path.join(here, '../../http-api/handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // The middleware keeps deadlineMargin (250 ms) of this free to report a failure cleanly.
      timeout: Duration.seconds(10),
      // CDK's own helper sets the layer and the extension's environment variables together.
      // fromVersionArn, not fromVersion: CDK's built-in table of layer versions lags behind AWS's.
      paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersionArn(layerArn, {
        logLevel: lambda.ParamsAndSecretsLogLevel.INFO,
        // How long the extension may serve a value after a rotation; cacheExpiry adds to it.
        secretsManagerTtl: Duration.seconds(60),
        parameterStoreTtl: Duration.seconds(300),
      }),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        // esbuild from node_modules, never a Docker image.
        forceDockerBundling: false,
      },
    })

    const { region, account, partition } = Stack.of(this)
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: ['/shop/prices', '/shop/partner-url'].map(
          (name) => `arn:${partition}:ssm:${region}:${account}:parameter${name}`,
        ),
      }),
    )
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // Secrets Manager appends a dash and six random characters to a secret's ARN.
        resources: [`arn:${partition}:secretsmanager:${region}:${account}:secret:prod/partner-api-??????`],
      }),
    )
    if (props.secretKmsKeyArn !== undefined) {
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.secretKmsKeyArn],
          // Only when Secrets Manager or Parameter Store asks on the function's behalf.
          conditions: {
            StringEquals: {
              'kms:ViaService': [`secretsmanager.${region}.amazonaws.com`, `ssm.${region}.amazonaws.com`],
            },
          },
        }),
      )
    }

    const api = new HttpApi(this, 'Api')
    api.addRoutes({
      path: '/orders',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('OrdersIntegration', this.fn),
    })
    new CfnOutput(this, 'OrdersUrl', { value: `${api.apiEndpoint}/orders` })
  }
}
