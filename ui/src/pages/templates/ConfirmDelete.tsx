/** A delete button that asks first, in place, and shows why the server refused (a 409 for a
 * template or mailbox still in use). */
import { useState } from "react";
import { errorMessage } from "@/api/problem";
import { Button } from "@/components/buttons";

export function ConfirmDelete({
  kind,
  name,
  onDelete,
}: {
  /** What is deleted, for the accessible names: "template", "mailbox". */
  kind: string;
  name: string;
  onDelete: () => Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (!asking) {
    return (
      <Button
        tone="ghost"
        className="text-red-700"
        aria-label={`Delete ${kind} ${name}`}
        onClick={() => {
          setError(null);
          setAsking(true);
        }}
      >
        Delete
      </Button>
    );
  }
  return (
    <div
      role="group"
      aria-label={`Confirm deleting ${kind} ${name}`}
      className="flex flex-wrap items-center gap-2 rounded-md bg-red-50 px-2 py-1"
    >
      <span className="text-sm text-red-900">Delete “{name}”?</span>
      <Button
        tone="danger"
        busy={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await onDelete();
            setAsking(false);
          } catch (failure) {
            setError(errorMessage(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        Yes, delete
      </Button>
      {/* Focus lands on the safe choice. */}
      <Button tone="secondary" autoFocus onClick={() => setAsking(false)}>
        Cancel
      </Button>
      {error && (
        <p role="alert" className="basis-full text-sm font-medium text-red-800">
          {error}
        </p>
      )}
    </div>
  );
}
