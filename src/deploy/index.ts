// middy-extension-secrets/deploy: what a function needs to read its fetchData through the AWS
// Parameters and Secrets Lambda Extension (the layer, its settings, least-privilege IAM), computed from
// the same configuration the handler uses. It never loads the middleware, so build scripts, CDK apps
// and the extension-secrets-policy command can import it without Middy.
export type { DeploymentConfig, FetchDataRecord } from './config.js'
export { type DeploymentOptions, type ExtensionDeployment, extensionDeployment } from './deployment.js'
export { type ExtensionSettings, extensionEnvironment } from './environment.js'
export { extensionLayerArn, type LayerOptions } from './layer-arn.js'
export { type Architecture, type ExtensionLayerRegion, extensionLayers, listedOn } from './layers.js'
export { extensionPolicy, type PolicyDocument, type PolicyOptions, type PolicyStatement } from './policy.js'
