// Errors the CLI reports as one clear message, without a stack trace.

/** A mistake in how a command was called: exit code 1, the message and where to find help. */
export class UsageError extends Error {}

/** A known failure with a message for the operator and its exit code (1 bad input, 2 runtime). */
export class CliError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
