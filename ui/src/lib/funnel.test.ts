import { describe, expect, it } from "vitest";
import { funnel } from "./funnel";

describe("funnel", () => {
  it("counts a message by every step it reached", () => {
    expect(funnel({ queued: 4, sent: 3, opened: 2, clicked: 1, replied: 1, bounced: 1, failed: 1 })).toEqual({
      total: 13,
      queued: 4,
      sent: 7,
      opened: 3,
      clicked: 1,
      replied: 1,
      bounced: 1,
      failed: 1,
    });
  });
});
