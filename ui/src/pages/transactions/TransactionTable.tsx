/** Transactions as a table, newest first, with a delete (asked twice) for editors. */
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { useSession } from "@/auth/session";
import { FormError } from "@/components/forms";
import { ConfirmButton } from "@/components/confirm";
import { Badge, Table } from "@/components/page";
import { formatDate, formatMoney } from "@/lib/format";
import { TRANSACTION_ROOTS, type Transaction } from "./TransactionForm";

export function TransactionTable({
  transactions,
  campaignNames,
  caption = "Transactions",
}: {
  transactions: Transaction[];
  /** Campaign names by id: adds a Campaign column (leave out on a campaign's own page). */
  campaignNames?: Map<string, string>;
  caption?: string;
}) {
  const { canEdit } = useSession();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/transactions/{transaction_id}", { params: { path: { transaction_id: id } } })),
    onMutate: () => setError(null),
    onError: (failure) => setError(errorMessage(failure)),
    onSettled: () =>
      Promise.all(TRANSACTION_ROOTS.map((root) => queryClient.invalidateQueries({ queryKey: [root] }))),
  });

  const head = ["Date", "Type", "Amount", "Category", "Description"];
  if (campaignNames) head.push("Campaign");
  if (canEdit) head.push("Actions");

  return (
    <div className="space-y-2">
      <FormError message={error} />
      <Table caption={caption} head={head}>
        {transactions.map((transaction) => {
          const money = formatMoney(transaction.amount_minor, transaction.currency);
          const campaign = transaction.campaign_id;
          return (
            <tr key={transaction.id}>
              <td className="whitespace-nowrap px-3 py-2 text-slate-700">{formatDate(transaction.occurred_on)}</td>
              <td className="px-3 py-2">
                <Badge tone={transaction.type === "income" ? "green" : "slate"}>
                  {transaction.type === "income" ? "Income" : "Expense"}
                </Badge>
              </td>
              <td
                className={`whitespace-nowrap px-3 py-2 tabular-nums ${transaction.type === "income" ? "text-green-800" : "text-slate-900"}`}
              >
                {transaction.type === "income" ? "+" : "−"}
                {money}
              </td>
              <td className="px-3 py-2 text-slate-700">{transaction.category}</td>
              <td className="max-w-xs truncate px-3 py-2 text-slate-700" title={transaction.description}>
                {transaction.description || "—"}
              </td>
              {campaignNames && (
                <td className="px-3 py-2">
                  {campaign ? (
                    <Link to={`/campaigns/${campaign}`} className="text-indigo-700 hover:underline">
                      {campaignNames.get(campaign) ?? "Campaign"}
                    </Link>
                  ) : (
                    <span className="text-slate-500">—</span>
                  )}
                </td>
              )}
              {canEdit && (
                <td className="px-3 py-2">
                  <ConfirmButton
                    label="Delete"
                    accessibleLabel={`Delete the ${transaction.type} of ${money} on ${formatDate(transaction.occurred_on)}`}
                    question="Delete this transaction?"
                    confirmLabel="Delete transaction"
                    tone="ghost"
                    busy={remove.isPending && remove.variables === transaction.id}
                    onConfirm={() => remove.mutate(transaction.id)}
                  />
                </td>
              )}
            </tr>
          );
        })}
      </Table>
    </div>
  );
}
