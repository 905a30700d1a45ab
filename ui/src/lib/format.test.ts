import { describe, expect, it } from "vitest";
import { formatMoney } from "./format";

describe("formatMoney", () => {
  it("reads minor units by the currency's own decimals", () => {
    expect(formatMoney(123456, "EUR")).toContain("1,234.56");
    expect(formatMoney(1234, "JPY")).toContain("1,234");
    expect(formatMoney(1234, "JPY")).not.toContain(".");
    expect(formatMoney(1234, "KWD")).toContain("1.234");
    expect(formatMoney(null)).toBe("—");
  });
});
