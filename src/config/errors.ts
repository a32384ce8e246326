/** A configuration problem the user can fix (reported without a stack trace). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A setting is invalid, named with where it came from: a usage error (exit 2). */
export class SettingError extends ConfigError {
  override name = 'SettingError';
}
