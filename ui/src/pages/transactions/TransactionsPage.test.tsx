import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { campaign, transaction } from "@/test/fixtures";
import { renderPage } from "@/test/render";
import { json, page, problem, stubApi, type Routes } from "@/test/server";
import TransactionsPage from "./TransactionsPage";

const CAMPAIGN = campaign({ id: "c-1", name: "Summer release" });

/** What the page reads, with ``overrides`` in place. */
function routes(overrides: Routes = {}): Routes {
  return {
    "GET /api/v1/campaigns": page([CAMPAIGN]),
    "GET /api/v1/transactions/summary": ({ query }) =>
      json({
        group_by: query.get("group_by"),
        occurred_from: null,
        occurred_to: null,
        groups: [
          { key: "2024-05", currency: "EUR", income_minor: 50_000, expense_minor: 10_000, net_minor: 40_000, count: 3 },
          { key: "2024-06", currency: "EUR", income_minor: 0, expense_minor: 2_500, net_minor: -2_500, count: 1 },
        ],
        totals: [{ currency: "EUR", income_minor: 50_000, expense_minor: 12_500, net_minor: 37_500, count: 4 }],
      }),
    "GET /api/v1/transactions": page([
      transaction({ campaign_id: "c-1" }),
      transaction({ id: "t-2", type: "income", amount_minor: 50_000, amount: "500.00", category: "royalties" }),
    ]),
    ...overrides,
  };
}

function renderTransactions() {
  return renderPage(<TransactionsPage />, { path: "/transactions" });
}

describe("TransactionsPage", () => {
  it("lists transactions with their campaign, and the summary per currency", async () => {
    stubApi(routes());
    renderTransactions();
    const table = await screen.findByRole("table", { name: "Transactions" });
    expect(within(table).getByRole("link", { name: "Summer release" })).toHaveAttribute("href", "/campaigns/c-1");
    expect(within(table).getByText("royalties")).toBeInTheDocument();
    const totals = await screen.findByRole("region", { name: "Totals in EUR" });
    expect(within(totals).getByText("Net (EUR)").nextSibling).toHaveTextContent("375.00");
    expect(screen.getByRole("figure", { name: "Income and expenses in EUR by month" })).toBeInTheDocument();
  });

  it("sends the filters to the list", async () => {
    const calls = stubApi(routes());
    const { user } = renderTransactions();
    await screen.findByRole("table", { name: "Transactions" });
    await screen.findByRole("option", { name: "Summer release" });

    const filters = screen.getByRole("search", { name: "Filter transactions" });
    await user.selectOptions(within(filters).getByLabelText("Campaign"), "c-1");
    await user.selectOptions(within(filters).getByLabelText("Type"), "expense");
    await waitFor(() => {
      const last = calls.filter((call) => call.path === "/api/v1/transactions").at(-1);
      expect(last?.query.get("campaign_id")).toBe("c-1");
      expect(last?.query.get("type")).toBe("expense");
    });
  });

  it("imports a CSV file and lists the rows it skipped with their errors", async () => {
    const calls = stubApi(
      routes({
        "POST /api/v1/transactions/import": {
          created: 2,
          skipped: 1,
          errors: [{ row: 3, field: "amount", message: "EUR has at most 2 decimals" }],
        },
      }),
    );
    const { user } = renderTransactions();

    await user.click(await screen.findByRole("button", { name: "Import transactions" }));
    const form = screen.getByRole("form", { name: "Import transactions" });
    const file = new File(["type,amount,currency,occurred_on\nexpense,1.234,EUR,2024-06-01\n"], "june.csv", {
      type: "text/csv",
    });
    await user.upload(within(form).getByLabelText("CSV file"), file);
    await user.click(within(form).getByRole("button", { name: "Import CSV" }));

    expect(await screen.findByText(/Imported 2 transactions; skipped 1 row with errors/)).toBeInTheDocument();
    const errors = screen.getByRole("table", { name: "Rows not imported" });
    const row = within(errors).getAllByRole("row")[1]!;
    expect(within(row).getByText("3")).toBeInTheDocument();
    expect(within(row).getByText("amount")).toBeInTheDocument();
    expect(within(row).getByText("EUR has at most 2 decimals")).toBeInTheDocument();
    const upload = calls.find((call) => call.path === "/api/v1/transactions/import");
    expect(upload?.method).toBe("POST");
    expect((upload?.body as FormData).get("file")).toBeInstanceOf(File);
  });

  it("shows a file the server refuses next to the file input", async () => {
    stubApi(
      routes({
        "POST /api/v1/transactions/import": problem(422, "missing column(s): amount or amount_minor", [
          { field: "file", message: "missing column(s): amount or amount_minor" },
        ]),
      }),
    );
    const { user } = renderTransactions();
    await user.click(await screen.findByRole("button", { name: "Import transactions" }));
    await user.upload(screen.getByLabelText("CSV file"), new File(["type,currency\n"], "bad.csv", { type: "text/csv" }));
    await user.click(screen.getByRole("button", { name: "Import CSV" }));
    await waitFor(() =>
      expect(screen.getByLabelText("CSV file")).toHaveAccessibleDescription("missing column(s): amount or amount_minor"),
    );
  });

  it("puts the API's error on the converted amount next to the Amount field", async () => {
    const calls = stubApi(
      routes({
        "POST /api/v1/transactions": problem(422, "invalid fields: amount_minor", [
          { field: "amount_minor", message: "Input should be less than or equal to 1000000000000000" },
        ]),
      }),
    );
    const { user } = renderTransactions();
    await user.click(await screen.findByRole("button", { name: "New transaction" }));
    const form = screen.getByRole("form", { name: "New transaction" });
    await user.type(within(form).getByLabelText("Amount"), "12");
    await user.type(within(form).getByLabelText("Category"), "ads");
    await user.selectOptions(within(form).getByLabelText("Campaign"), "c-1");
    await user.click(within(form).getByRole("button", { name: "Add transaction" }));

    await waitFor(() =>
      expect(within(form).getByLabelText("Amount")).toHaveAccessibleDescription(
        "Input should be less than or equal to 1000000000000000",
      ),
    );
    expect(calls.find((call) => call.method === "POST")?.body).toMatchObject({ campaign_id: "c-1", currency: "EUR" });
  });

  it("lets a viewer export but not add or import", async () => {
    stubApi(routes(), { role: "viewer" });
    const { sessionReady } = renderTransactions();
    await screen.findByRole("table", { name: "Transactions" });
    await sessionReady();
    expect(screen.getByRole("button", { name: "Export CSV" })).toBeEnabled();
    expect(screen.queryByRole("button", { name: "New transaction" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Import transactions" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Delete the/ })).not.toBeInTheDocument();
  });
});
