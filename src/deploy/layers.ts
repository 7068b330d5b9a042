// The AWS Parameters and Secrets Lambda Extension layers, per region, as data.
//
// The authority is AWS's live page "AWS Parameters and Secrets Lambda Extension ARNs" (Systems Manager
// User Guide, "Using Parameter Store parameters in AWS Lambda functions"). This table is a snapshot
// taken in January 2026 (`listedOn`); check it against that page before relying on it, and update it
// when AWS publishes new versions. Where each entry comes from:
//
// - accounts: AWS CDK's region-info table (aws-cdk-lib 2.276.0, `paramsAndSecretsLambdaLayerArn`),
//   which agrees with the AWS page as we remember it; the accounts of ap-southeast-4, ca-west-1 and
//   il-central-1 are not in CDK's table and come from memory of the AWS page only (`accountSource`).
//   The account is the same for both architectures.
// - versions: only where a January 2026 listing was seen (docs/deploying.md and the project's notes on
//   the extension: us-east-1, eu-west-1, ap-northeast-1, version 24 for both architectures). Every other
//   region has no version here: CDK's table is years behind (versions 1 to 4) and memory is not a
//   source, so asking for those regions without `layerVersion` is an error that says where to look.
//
// The table only names what a deployment needs; `layer-arn.ts` builds and checks the ARN.

export type Architecture = 'x86_64' | 'arm64'

export interface ExtensionLayerRegion {
  partition: 'aws' | 'aws-cn' | 'aws-us-gov'
  /** The AWS account that publishes the layer in this region. */
  account: string
  accountSource: 'cdk-region-info' | 'memory'
  /** Confirmed versions, per architecture; absent when no current listing was seen. */
  versions?: Readonly<Record<Architecture, number>>
}

/** When the confirmed versions below were listed by AWS. */
export const listedOn = '2026-01'

const cdk = 'cdk-region-info' as const
const jan2026 = { x86_64: 24, arm64: 24 } as const

export const extensionLayers: Readonly<Record<string, ExtensionLayerRegion>> = {
  'af-south-1': { partition: 'aws', account: '317013901791', accountSource: cdk },
  'ap-east-1': { partition: 'aws', account: '768336418462', accountSource: cdk },
  'ap-northeast-1': { partition: 'aws', account: '133490724326', accountSource: cdk, versions: jan2026 },
  'ap-northeast-2': { partition: 'aws', account: '738900069198', accountSource: cdk },
  'ap-northeast-3': { partition: 'aws', account: '576959938190', accountSource: cdk },
  'ap-south-1': { partition: 'aws', account: '176022468876', accountSource: cdk },
  'ap-south-2': { partition: 'aws', account: '070087711984', accountSource: cdk },
  'ap-southeast-1': { partition: 'aws', account: '044395824272', accountSource: cdk },
  'ap-southeast-2': { partition: 'aws', account: '665172237481', accountSource: cdk },
  'ap-southeast-3': { partition: 'aws', account: '490737872127', accountSource: cdk },
  'ap-southeast-4': { partition: 'aws', account: '090732460067', accountSource: 'memory' },
  'ca-central-1': { partition: 'aws', account: '200266452380', accountSource: cdk },
  'ca-west-1': { partition: 'aws', account: '243964427225', accountSource: 'memory' },
  'cn-north-1': { partition: 'aws-cn', account: '287114880934', accountSource: cdk },
  'cn-northwest-1': { partition: 'aws-cn', account: '287310001119', accountSource: cdk },
  'eu-central-1': { partition: 'aws', account: '187925254637', accountSource: cdk },
  'eu-central-2': { partition: 'aws', account: '772501565639', accountSource: cdk },
  'eu-north-1': { partition: 'aws', account: '427196147048', accountSource: cdk },
  'eu-south-1': { partition: 'aws', account: '325218067255', accountSource: cdk },
  'eu-south-2': { partition: 'aws', account: '524103009944', accountSource: cdk },
  'eu-west-1': { partition: 'aws', account: '015030872274', accountSource: cdk, versions: jan2026 },
  'eu-west-2': { partition: 'aws', account: '133256977650', accountSource: cdk },
  'eu-west-3': { partition: 'aws', account: '780235371811', accountSource: cdk },
  'il-central-1': { partition: 'aws', account: '148806536434', accountSource: 'memory' },
  'me-central-1': { partition: 'aws', account: '858974508948', accountSource: cdk },
  'me-south-1': { partition: 'aws', account: '832021897121', accountSource: cdk },
  'sa-east-1': { partition: 'aws', account: '933737806257', accountSource: cdk },
  'us-east-1': { partition: 'aws', account: '177933569100', accountSource: cdk, versions: jan2026 },
  'us-east-2': { partition: 'aws', account: '590474943231', accountSource: cdk },
  'us-gov-east-1': { partition: 'aws-us-gov', account: '129776340158', accountSource: cdk },
  'us-gov-west-1': { partition: 'aws-us-gov', account: '127562683043', accountSource: cdk },
  'us-west-1': { partition: 'aws', account: '997803712105', accountSource: cdk },
  'us-west-2': { partition: 'aws', account: '345057560386', accountSource: cdk },
}
