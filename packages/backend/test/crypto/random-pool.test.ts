/**
 * Random values cut from the CSPRNG pool: lengths, encodings, uniqueness across pool refills, and the
 * length checks.
 */
import { base64urlToBytes, randomBase32, randomBytesFromPool, randomValue } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

describe("randomBytesFromPool", () => {
  it("returns the requested number of bytes, pooled (≤ 256) and direct (> 256)", () => {
    for (const length of [0, 1, 16, 32, 256, 257, 4096, 65536]) {
      expect(randomBytesFromPool(length)).toHaveLength(length);
    }
  });

  it("never hands out the same bytes twice, across many refills of the 4 KiB pool", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomBytesFromPool(16).toString("hex"));
    expect(seen.size).toBe(5000);
  });

  it("gives independent buffers: changing one leaves later values alone", () => {
    const first = randomBytesFromPool(32);
    first.fill(0);
    const second = randomBytesFromPool(32);
    expect(second.equals(Buffer.alloc(32))).toBe(false);
  });

  it("spreads values over every byte value", () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 400; i++) for (const b of randomBytesFromPool(100)) counts[b] = (counts[b] ?? 0) + 1;
    // 40,000 bytes: each value is expected ~156 times; none may be missing or wildly over-represented.
    expect(Math.min(...counts)).toBeGreaterThan(80);
    expect(Math.max(...counts)).toBeLessThan(250);
  });

  it.each([-1, 1.5, 65537, Number.NaN])("refuses the length %s with ValueError", (length) => {
    expectCrossauthError(() => randomBytesFromPool(length), ErrorCode.ValueError);
  });
});

describe("values drawn from the pool", () => {
  it("randomValue(16) is 22 base64url characters of 16 distinct bytes each time", () => {
    const values = Array.from({ length: 1000 }, () => randomValue(16));
    expect(new Set(values).size).toBe(1000);
    for (const v of values.slice(0, 50)) {
      expect(v).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(base64urlToBytes(v)).toHaveLength(16);
    }
  });

  it("randomBase32 uses the readable alphabet and groups with dashes", () => {
    expect(randomBase32(8, 4)).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
  });
});
