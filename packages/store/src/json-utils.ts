/**
 * Freezes a JSON value and everything inside it, so that a snapshot can be shared by every
 * reader without copying. Already-frozen objects are not walked again.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * A mutable deep copy of a JSON value (plain objects, arrays, primitives). Cheaper than
 * `structuredClone` for the small objects a mutator touches.
 */
export function copyJsonValue<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJsonValue) as T;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    setOwnProperty(copy, key, copyJsonValue((value as Record<string, unknown>)[key]));
  }
  return copy as T;
}

/**
 * `target[key] = value` that also works for the key `__proto__`, which JSON may hold as a plain
 * property but which an assignment would turn into a prototype change.
 */
export function setOwnProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** A plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a JSON text stops being valid: offset into the text, 1-based line and column. */
export interface JsonErrorPosition {
  offset: number;
  line: number;
  column: number;
}

/** Converts an offset into a 1-based line and column (columns count UTF-16 units). */
export function positionOfOffset(text: string, offset: number): JsonErrorPosition {
  let line = 1;
  let lineStart = 0;
  let index = text.indexOf("\n");
  while (index !== -1 && index < offset) {
    line += 1;
    lineStart = index + 1;
    index = text.indexOf("\n", lineStart);
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/**
 * Finds the offset of the first syntax error in `text`, or `undefined` when the text is valid
 * JSON. Used only after `JSON.parse` failed, because V8's messages give no position for an
 * unexpected token.
 */
export function findJsonErrorOffset(text: string): number | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.skipWhitespace();
    scanner.value(0);
    scanner.skipWhitespace();
    return scanner.offset < text.length ? scanner.offset : undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxStop) return error.offset;
    throw error;
  }
}

class JsonSyntaxStop {
  readonly offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }
}

const MAX_DEPTH = 10_000;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

class JsonScanner {
  offset = 0;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  fail(): never {
    throw new JsonSyntaxStop(this.offset);
  }

  skipWhitespace(): void {
    const text = this.text;
    while (this.offset < text.length) {
      const char = text.charCodeAt(this.offset);
      if (char !== 0x20 && char !== 0x0a && char !== 0x0d && char !== 0x09) return;
      this.offset += 1;
    }
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail();
    const char = this.text[this.offset];
    if (char === "{") {
      this.object(depth);
      return;
    }
    if (char === "[") {
      this.array(depth);
      return;
    }
    if (char === '"') {
      this.string();
      return;
    }
    for (const pattern of [NUMBER, LITERAL]) {
      pattern.lastIndex = this.offset;
      const match = pattern.exec(this.text);
      if (match !== null) {
        this.offset += match[0].length;
        return;
      }
    }
    this.fail();
  }

  object(depth: number): void {
    this.offset += 1;
    this.skipWhitespace();
    if (this.text[this.offset] === "}") {
      this.offset += 1;
      return;
    }
    for (;;) {
      if (this.text[this.offset] !== '"') this.fail();
      this.string();
      this.skipWhitespace();
      if (this.text[this.offset] !== ":") this.fail();
      this.offset += 1;
      this.skipWhitespace();
      this.value(depth + 1);
      this.skipWhitespace();
      const next = this.text[this.offset];
      this.offset += 1;
      if (next === "}") return;
      if (next !== ",") {
        this.offset -= 1;
        this.fail();
      }
      this.skipWhitespace();
    }
  }

  array(depth: number): void {
    this.offset += 1;
    this.skipWhitespace();
    if (this.text[this.offset] === "]") {
      this.offset += 1;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.skipWhitespace();
      const next = this.text[this.offset];
      this.offset += 1;
      if (next === "]") return;
      if (next !== ",") {
        this.offset -= 1;
        this.fail();
      }
      this.skipWhitespace();
    }
  }

  string(): void {
    const text = this.text;
    this.offset += 1;
    while (this.offset < text.length) {
      const char = text.charCodeAt(this.offset);
      if (char === 0x22) {
        this.offset += 1;
        return;
      }
      if (char < 0x20) this.fail();
      if (char === 0x5c) {
        const escaped = text[this.offset + 1];
        if (escaped === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.offset + 2, this.offset + 6))) {
            this.offset += 1;
            this.fail();
          }
          this.offset += 6;
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) {
          this.offset += 1;
          this.fail();
        }
        this.offset += 2;
        continue;
      }
      this.offset += 1;
    }
    this.fail();
  }
}
