/**
 * Every value typed for `--name` (as `--name value` or `--name=value`), exactly as typed, in
 * order, up to a `--`. cac reads values through mri, which turns numeric-looking strings into
 * numbers (`--label 007` would become `7`), so string options are read from argv instead.
 */
export function rawOptionValues(argv: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === "--") break;
    if (arg === `--${name}`) {
      const next = argv[index + 1];
      if (next !== undefined) values.push(next);
      index += 1;
    } else if (arg?.startsWith(`--${name}=`)) {
      values.push(arg.slice(name.length + 3));
    }
  }
  return values;
}

/** The last value typed for `--name`, or undefined. */
export function rawOptionValue(argv: readonly string[], name: string): string | undefined {
  return rawOptionValues(argv, name).at(-1);
}
