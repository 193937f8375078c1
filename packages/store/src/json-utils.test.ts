import { describe, expect, it } from "vitest";
import {
  copyJsonValue,
  deepFreeze,
  findJsonErrorOffset,
  positionOfOffset,
  setOwnProperty,
} from "./json-utils.ts";

describe("findJsonErrorOffset", () => {
  it("returns undefined for valid JSON", () => {
    for (const text of ['{"a":[1,2.5e3,true,null,"x\\u00e9\\n"]}', " [] ", '"s"', "-0.1"]) {
      expect(JSON.parse(text)).toBeDefined();
      expect(findJsonErrorOffset(text)).toBeUndefined();
    }
  });

  it("points at the first invalid character", () => {
    expect(findJsonErrorOffset('{"a": }')).toBe(6);
    expect(findJsonErrorOffset("[1,]")).toBe(3);
    expect(findJsonErrorOffset('{"a": 1')).toBe(7);
    expect(findJsonErrorOffset('{"a": 1} x')).toBe(9);
    expect(findJsonErrorOffset('{"a": "\\q"}')).toBe(8);
    expect(findJsonErrorOffset('{"a": tru}')).toBe(6);
    expect(findJsonErrorOffset("")).toBe(0);
  });

  it("gives 1-based lines and columns", () => {
    const text = '{\n  "a": 1,\n  "b": x\n}';
    const offset = findJsonErrorOffset(text) as number;
    expect(positionOfOffset(text, offset)).toEqual({ offset, line: 3, column: 8 });
  });
});

describe("deepFreeze and copyJsonValue", () => {
  it("freezes deeply and copies back into mutable data", () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    const copy = copyJsonValue(value);
    expect(copy).toEqual(value);
    expect(Object.isFrozen(copy.a.b)).toBe(false);
    (copy.a.b[1] as { c: number }).c = 3;
    expect((value.a.b[1] as { c: number }).c).toBe(2);
  });

  it("keeps __proto__ as a plain property", () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const copy = copyJsonValue(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(["__proto__"]);
    const target: Record<string, unknown> = {};
    setOwnProperty(target, "__proto__", 1);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(JSON.stringify(target)).toBe('{"__proto__":1}');
  });
});
