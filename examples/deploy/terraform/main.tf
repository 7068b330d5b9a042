# Terraform (AWS provider 5 or later) for the HTTP API example (examples/http-api/handler.ts), without
# the API Gateway part. Bundle the handler first, from the project root:
#   npx esbuild examples/http-api/handler.ts --bundle --platform=node --format=esm --target=node22 \
#     --sourcemap --outfile=build/orders/index.mjs
# The layer, the environment and the policy are what this prints for the example's configuration:
#   npx extension-secrets-policy --module examples/deploy/config.ts --region us-east-1 \
#     --architecture arm64 --log-level info --format json
# (NODE_OPTIONS='--import tsx' for a .ts module). test/deploy.test.ts checks they still agree.

variable "extension_layer_arn" {
  description = "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64 for your region (us-east-1 as listed in January 2026; see docs/deploying.md)"
  type        = string
  default     = "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24"
}

variable "secret_kms_key_arn" {
  description = "The customer-managed KMS key of the prod/partner-api secret (drop the kms statement for the AWS managed key)"
  type        = string
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # AWS provider 6 deprecates `name` here in favour of `region`.
  region  = data.aws_region.current.name
  account = data.aws_caller_identity.current.account_id
}

data "archive_file" "orders" {
  type        = "zip"
  source_dir  = "${path.module}/../../../build/orders"
  output_path = "${path.module}/orders.zip"
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read_configuration" {
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.secret_kms_key_arn]
    # Only when Secrets Manager or Parameter Store asks on the function's behalf.
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "secretsmanager.${local.region}.amazonaws.com",
        "ssm.${local.region}.amazonaws.com",
      ]
    }
  }

  statement {
    actions = ["secretsmanager:GetSecretValue"]
    # Secrets Manager appends a dash and six random characters to a secret's ARN.
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:prod/partner-api-??????"]
  }

  statement {
    actions = ["ssm:GetParameter"]
    resources = [
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/shop/partner-url",
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/shop/prices",
    ]
  }
}

resource "aws_iam_role" "orders" {
  name               = "orders-function"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_iam_role_policy_attachment" "orders_logs" {
  role       = aws_iam_role.orders.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "orders_configuration" {
  name   = "read-configuration"
  role   = aws_iam_role.orders.id
  policy = data.aws_iam_policy_document.read_configuration.json
}

resource "aws_lambda_function" "orders" {
  function_name    = "orders"
  role             = aws_iam_role.orders.arn
  filename         = data.archive_file.orders.output_path
  source_code_hash = data.archive_file.orders.output_base64sha256
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = 512
  # The middleware keeps deadlineMargin (250 ms) of this free to report a failure cleanly.
  timeout = 10
  layers  = [var.extension_layer_arn]

  environment {
    variables = {
      # The extension's own settings. Its TTLs follow the handler's cacheExpiry (60 s), so both caches
      # expire together.
      PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL = "info"
      SECRETS_MANAGER_TTL                    = "60"
      SSM_PARAMETER_STORE_TTL                = "60"
    }
  }
}
