/** Exporting what a search finds as CSV: the API writes the file and answers with its address;
 * the file is fetched with the session's token and offered as a download link. */
import { useEffect, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { api, fileUrl, unwrap } from "@/api/client";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";
import { formatNumber } from "@/lib/format";
import type { ArtistSearchQuery } from "./filters";

interface Download {
  filename: string;
  rows: number;
  url: string;
}

async function exportArtists(query: ArtistSearchQuery): Promise<Download> {
  const made = await unwrap(api.POST("/api/v1/artists/export", { params: { query } }));
  return { filename: made.filename, rows: made.rows, url: await fileUrl(made.download_url) };
}

export function ExportArtists({ query }: { query: ArtistSearchQuery }) {
  const [download, setDownload] = useState<Download | null>(null);
  const exporting = useMutation({
    mutationFn: exportArtists,
    onSuccess: (made) => setDownload(made),
  });

  // A file object lives as long as its link does.
  useEffect(() => {
    if (!download) return;
    return () => URL.revokeObjectURL(download.url);
  }, [download]);

  return (
    <div className="flex flex-wrap items-center gap-3">
      <Button
        tone="secondary"
        busy={exporting.isPending}
        onClick={() => {
          setDownload(null);
          exporting.mutate(query);
        }}
      >
        Export CSV
      </Button>
      <div aria-live="polite" className="text-sm">
        {exporting.isPending && <span className="text-slate-600">Preparing the file…</span>}
        {download && (
          <span role="status">
            <a
              href={download.url}
              download={download.filename}
              className="font-medium text-indigo-700 underline hover:text-indigo-900"
            >
              Download {download.filename}
            </a>{" "}
            <span className="text-slate-600">({formatNumber(download.rows)} rows)</span>
          </span>
        )}
      </div>
      {exporting.isError && (
        <p role="alert" className="w-full text-sm text-red-800">
          Export failed: {errorMessage(exporting.error)}
        </p>
      )}
    </div>
  );
}
