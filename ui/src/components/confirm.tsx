/** Asking before an action that cannot be taken back, the same way on every page: the question
 * says what will happen, the focus moves to the safe choice, Escape keeps things as they are,
 * and the focus goes back where it was. */
import { useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";
import { errorMessage } from "@/api/problem";
import { Button } from "./buttons";
import { FormError } from "./forms";

/** The question itself, shown in place: an alertdialog named by ``question`` and described by
 * ``children``. It takes the focus (the dismiss button) when it opens and hands it back to what
 * had it when it closes. */
export function Confirmation({
  question,
  children,
  confirmLabel,
  dismissLabel = "Cancel",
  busy = false,
  error,
  onConfirm,
  onDismiss,
}: {
  question: string;
  /** What the question leaves out: consequences, what cannot be undone. */
  children?: ReactNode;
  confirmLabel: string;
  dismissLabel?: string;
  busy?: boolean;
  /** Why the last attempt failed. */
  error?: string | null;
  onConfirm: () => void;
  onDismiss: () => void;
}) {
  const questionId = useId();
  const detailsId = useId();
  const dismiss = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dismiss.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <div
      role="alertdialog"
      aria-labelledby={questionId}
      aria-describedby={children ? detailsId : undefined}
      className="flex flex-wrap items-center gap-x-3 gap-y-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-950 ring-1 ring-amber-200"
      onKeyDown={(event) => {
        if (event.key === "Escape" && !busy) {
          event.stopPropagation();
          onDismiss();
        }
      }}
    >
      <p id={questionId} className="font-medium">
        {question}
      </p>
      {children && (
        <div id={detailsId} className="basis-full space-y-2 text-slate-800">
          {children}
        </div>
      )}
      {error && (
        <div className="basis-full">
          <FormError message={error} />
        </div>
      )}
      <div className="flex flex-wrap gap-2">
        <Button tone="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button ref={dismiss} tone="secondary" disabled={busy} onClick={onDismiss}>
          {dismissLabel}
        </Button>
      </div>
    </div>
  );
}

/** A button whose action is asked about first: pressed, it turns into the question, and back
 * once answered. When ``onConfirm`` returns a promise the question stays (busy) until it
 * settles and shows its failure in place; otherwise it closes at once and the caller shows the
 * outcome. */
export function ConfirmButton({
  label,
  accessibleLabel,
  question,
  details,
  confirmLabel,
  dismissLabel,
  tone = "secondary",
  busy = false,
  disabled = false,
  onConfirm,
}: {
  label: string;
  /** The button's name when ``label`` alone is ambiguous (a row's "Remove"). */
  accessibleLabel?: string;
  question: string;
  details?: ReactNode;
  confirmLabel: string;
  dismissLabel?: string;
  tone?: "secondary" | "ghost" | "danger";
  busy?: boolean;
  disabled?: boolean;
  onConfirm: () => void | Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);

  // Answered: the focus returns to the button the question stood in for.
  useEffect(() => {
    if (wasAsking.current && !asking) trigger.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <Button
        ref={trigger}
        tone={tone}
        busy={busy}
        disabled={disabled}
        aria-label={accessibleLabel}
        onClick={() => {
          setError(null);
          setAsking(true);
        }}
      >
        {label}
      </Button>
    );
  }
  return (
    <Confirmation
      question={question}
      confirmLabel={confirmLabel}
      dismissLabel={dismissLabel}
      busy={busy || pending}
      error={error}
      onDismiss={() => setAsking(false)}
      onConfirm={() => {
        const done = onConfirm();
        if (!(done instanceof Promise)) {
          setAsking(false);
          return;
        }
        setPending(true);
        setError(null);
        done.then(
          () => setAsking(false),
          (failure: unknown) => setError(errorMessage(failure)),
        ).finally(() => setPending(false));
      }}
    >
      {details}
    </Confirmation>
  );
}
