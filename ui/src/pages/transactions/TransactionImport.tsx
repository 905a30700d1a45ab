/** Import transactions from a CSV file (POST /transactions/import, multipart): what was
 * imported, and each bad field of each skipped row. */
import { useId, useRef, useState } from "react";
import type { FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { authorizedFetch } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { FormError } from "@/components/forms";
import { Table } from "@/components/page";
import { formatNumber } from "@/lib/format";
import { TRANSACTION_ROOTS } from "./TransactionForm";

type ImportResult = components["schemas"]["TransactionImportResult"];

export function TransactionImport() {
  const queryClient = useQueryClient();
  const inputId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);

  async function upload(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFileError(null);
    setFormError(null);
    setResult(null);
    if (!file) {
      setFileError("Choose a CSV file to import.");
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name);
    setBusy(true);
    try {
      const response = await authorizedFetch("/api/v1/transactions/import", { method: "POST", body });
      const imported = (await response.json()) as ImportResult;
      setResult(imported);
      if (imported.created > 0) {
        await Promise.all(TRANSACTION_ROOTS.map((root) => queryClient.invalidateQueries({ queryKey: [root] })));
      }
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (error) {
      const onFile = error instanceof ApiError ? error.fieldErrors.find((problem) => problem.field === "file") : undefined;
      if (onFile) setFileError(onFile.message);
      else setFormError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-4">
      <form aria-label="Import transactions" noValidate onSubmit={upload} className="space-y-3">
        <FormError message={formError} />
        <div className="space-y-1">
          <label htmlFor={inputId} className="block text-sm font-medium text-slate-800">
            CSV file
          </label>
          <input
            ref={fileInput}
            id={inputId}
            type="file"
            accept=".csv,text/csv"
            aria-invalid={fileError ? true : undefined}
            aria-describedby={fileError ? `${inputId}-error` : `${inputId}-hint`}
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
            className="block w-full text-sm text-slate-800 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-indigo-700 hover:file:bg-indigo-100"
          />
          {fileError ? (
            <p id={`${inputId}-error`} role="alert" className="text-xs font-medium text-red-700">
              {fileError}
            </p>
          ) : (
            <p id={`${inputId}-hint`} className="text-xs text-slate-600">
              A header row with type, amount (or amount_minor), currency and occurred_on
              (YYYY-MM-DD); optional category, description and campaign_id. Rows with errors are
              skipped and listed; the rest are imported.
            </p>
          )}
        </div>
        <Button type="submit" busy={busy}>
          Import CSV
        </Button>
      </form>

      {result && (
        <div className="space-y-3">
          <p role="status" className={`text-sm ${result.skipped > 0 ? "text-amber-900" : "text-green-800"}`}>
            Imported {formatNumber(result.created)} {result.created === 1 ? "transaction" : "transactions"}
            {result.skipped > 0 &&
              `; skipped ${formatNumber(result.skipped)} ${result.skipped === 1 ? "row" : "rows"} with errors`}
            .
          </p>
          {result.errors.length > 0 && (
            <Table caption="Rows not imported" head={["Row", "Column", "Problem"]}>
              {result.errors.map((problem, index) => (
                <tr key={`${problem.row}-${problem.field}-${index}`}>
                  <td className="px-3 py-2 tabular-nums">{problem.row}</td>
                  <td className="px-3 py-2 font-mono text-xs">{problem.field}</td>
                  <td className="px-3 py-2 text-red-800">{problem.message}</td>
                </tr>
              ))}
            </Table>
          )}
        </div>
      )}
    </div>
  );
}
