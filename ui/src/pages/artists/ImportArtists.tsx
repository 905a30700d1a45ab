/** Importing artists (and their emails as contacts) from a CSV file, with what each row did. */
import { useId, useRef, useState } from "react";
import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { authorizedFetch } from "@/api/client";
import { errorMessage } from "@/api/problem";
import type { components } from "@/api/schema";
import { Button } from "@/components/buttons";
import { FormError } from "@/components/forms";
import { formatNumber } from "@/lib/format";

type ImportResult = components["schemas"]["ImportResult"];

// The server lists at most this many problems (``core/csv_import.py``).
const MAX_REPORTED_PROBLEMS = 1000;

export const CSV_COLUMNS =
  "soundcloud_id, name, permalink (required), username, permalink_url, genres, city, country, followers, tracks, verified, email";

async function upload(file: File): Promise<ImportResult> {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await authorizedFetch("/api/v1/artists/import", { method: "POST", body: form });
  return (await response.json()) as ImportResult;
}

export function ImportArtists({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const importing = useMutation({
    mutationFn: upload,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["artists"] }),
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
        <div className="space-y-1">
          <label htmlFor={inputId} className="block text-sm font-medium text-slate-800">
            CSV file
          </label>
          <input
            ref={input}
            id={inputId}
            type="file"
            accept=".csv,text/csv"
            aria-invalid={fileError ? true : undefined}
            aria-describedby={`${inputId}-help`}
            onChange={() => setFileError(null)}
            className="block w-full text-sm text-slate-800 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-2 file:text-sm file:font-medium file:text-indigo-800 hover:file:bg-indigo-100"
          />
          <p id={`${inputId}-help`} className="text-xs text-slate-600">
            A header row, then one artist a row. Columns: {CSV_COLUMNS}. Separate several genres or
            emails with semicolons. Artists already in the catalogue are kept as they are; their
            emails are added to this workspace's contacts.
          </p>
          {fileError && (
            <p role="alert" className="text-xs font-medium text-red-700">
              {fileError}
            </p>
          )}
        </div>
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={importing.isPending}>
            Upload and import
          </Button>
          <Button tone="secondary" onClick={onClose}>
            Close
          </Button>
        </div>
      </form>
      {importing.isError && <FormError message={`Import failed: ${errorMessage(importing.error)}`} />}
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
          {result.errors.length > 0 && (
            <div role="group" aria-label="Rows not imported" tabIndex={0} className="overflow-x-auto rounded-lg ring-1 ring-red-200">
              <table className="min-w-full divide-y divide-red-100 text-sm">
                <caption className="bg-red-50 px-3 py-2 text-left font-medium text-red-900">
                  Rows not imported
                  {result.errors.length >= MAX_REPORTED_PROBLEMS &&
                    ` (the first ${formatNumber(MAX_REPORTED_PROBLEMS)} problems)`}
                </caption>
                <thead className="bg-red-50/50">
                  <tr>
                    <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
                      Row
                    </th>
                    <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
                      Column
                    </th>
                    <th scope="col" className="px-3 py-2 text-left font-semibold text-slate-700">
                      Problem
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-red-50">
                  {result.errors.map((problem, index) => (
                    <tr key={`${problem.row}-${problem.field}-${index}`}>
                      <td className="px-3 py-2 tabular-nums">{problem.row}</td>
                      <td className="px-3 py-2 font-mono text-xs">{problem.field}</td>
                      <td className="px-3 py-2">{problem.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
