/** Importing artists (and their emails as contacts) from a CSV file, with what each row did. */
import { useRef, useState } from "react";
import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { uploadFile } from "@/api/client";
import { ApiError, errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { ImportProblems } from "@/components/csvImport";
import { FileField, FormActions, FormError } from "@/components/forms";
import { formatNumber } from "@/lib/format";

type ImportResult = components["schemas"]["ImportResult"];

// The server lists at most this many problems (``core/csv_import.py``).
const MAX_REPORTED_PROBLEMS = 1000;

export const CSV_COLUMNS =
  "soundcloud_id, name, permalink (required), username, permalink_url, genres, city, country, followers, tracks, verified, email";

export function ImportArtists({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const importing = useMutation({
    mutationFn: (file: File) => uploadFile<ImportResult>("/api/v1/artists/import", file),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["artists"] }),
    onError: (error) => {
      const onFile = error instanceof ApiError ? error.fieldErrors.find((problem) => problem.field === "file") : undefined;
      if (onFile) setFileError(onFile.message);
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) {
      setFileError("Choose a CSV file to import.");
      return;
    }
    setFileError(null);
    importing.mutate(file);
  };

  const result = importing.data;
  return (
    <div className="space-y-4">
      <form aria-label="Import artists from CSV" noValidate onSubmit={submit} className="space-y-3">
        <FileField
          ref={input}
          label="CSV file"
          accept=".csv,text/csv"
          hint={`A header row, then one artist a row. Columns: ${CSV_COLUMNS}. Separate several genres or emails with semicolons. Artists already in the catalogue are kept as they are; their emails are added to this workspace's contacts.`}
          error={fileError ?? undefined}
          onChange={() => setFileError(null)}
        />
        <FormActions submitLabel="Upload and import" busy={importing.isPending} onCancel={onClose} cancelLabel="Close" />
      </form>
      {importing.isError && !fileError && <FormError message={`Import failed: ${errorMessage(importing.error)}`} />}
      {result && (
        <section aria-label="Import result" className="space-y-3">
          <p role="status" className="text-sm font-medium text-slate-900">
            Import finished: {formatNumber(result.inserted)} added,{" "}
            {formatNumber(result.skipped)} skipped.
          </p>
          <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-5">
            {(
              [
                ["Rows", result.rows, "import-rows"],
                ["Added", result.inserted, "import-inserted"],
                ["Already listed", result.existing, "import-existing"],
                ["Skipped", result.skipped, "import-skipped"],
                ["Contacts added", result.contacts_added, "import-contacts"],
              ] as const
            ).map(([label, value, testId]) => (
              <div key={label} className="rounded-md bg-slate-50 p-2 ring-1 ring-slate-200">
                <dt className="text-xs text-slate-600">{label}</dt>
                <dd className="text-lg font-semibold tabular-nums" data-testid={testId}>
                  {formatNumber(value)}
                </dd>
              </div>
            ))}
          </dl>
          <ImportProblems problems={result.errors} limit={MAX_REPORTED_PROBLEMS} />
        </section>
      )}
    </div>
  );
}
