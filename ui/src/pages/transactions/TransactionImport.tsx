/** Import transactions from a CSV file (POST /transactions/import, multipart): what was
 * imported, and each bad field of each skipped row. */
import { useRef, useState } from "react";
import type { FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { uploadFile } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { ImportProblems } from "@/components/csvImport";
import { FileField, FormError } from "@/components/forms";
import { formatNumber } from "@/lib/format";
import { TRANSACTION_ROOTS } from "./TransactionForm";

type ImportResult = components["schemas"]["TransactionImportResult"];

export function TransactionImport() {
  const queryClient = useQueryClient();
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
    setBusy(true);
    try {
      const imported = await uploadFile<ImportResult>("/api/v1/transactions/import", file);
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
        <FileField
          ref={fileInput}
          label="CSV file"
          accept=".csv,text/csv"
          hint="A header row with type, amount (or amount_minor), currency and occurred_on (YYYY-MM-DD); optional category, description and campaign_id. Rows with errors are skipped and listed; the rest are imported."
          error={fileError ?? undefined}
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
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
          <ImportProblems problems={result.errors} />
        </div>
      )}
    </div>
  );
}
