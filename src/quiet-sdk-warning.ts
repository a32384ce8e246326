// Node 20 is supported on purpose; without this the AWS SDK's upgrade nag opens every command's
// output. Imported first by the entry points (side effect only), before any S3 client exists.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
