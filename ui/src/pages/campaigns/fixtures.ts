/** API answers for the tests of these pages. */
import type { components } from "@/api/schema";

type Campaign = components["schemas"]["CampaignRead"];
type Transaction = components["schemas"]["TransactionRead"];

export function campaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: "11111111-1111-4111-8111-111111111111",
    name: "Summer release",
    description: "The single and its remixes.",
    type: "release",
    status: "draft",
    start_date: "2024-06-01",
    end_date: "2024-08-31",
    budget_minor: 100_000,
    currency: "EUR",
    spent_minor: 0,
    over_budget: false,
    created_by: "u1",
    created_at: "2024-05-01T10:00:00Z",
    updated_at: "2024-05-01T10:00:00Z",
    ...overrides,
  };
}

export function transaction(overrides: Partial<Transaction> = {}): Transaction {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    type: "expense",
    amount_minor: 2_500,
    amount: "25.00",
    currency: "EUR",
    category: "ads",
    description: "Instagram ads",
    occurred_on: "2024-06-03",
    campaign_id: null,
    created_by: "u1",
    created_at: "2024-06-03T10:00:00Z",
    updated_at: "2024-06-03T10:00:00Z",
    ...overrides,
  };
}
