/** A destructive action asked twice: the first press shows the question with Confirm and
 * Cancel (focus moves to Confirm; Escape or Cancel goes back to the first button). */
import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Button } from "@/components/buttons";

export function ConfirmButton({
  label,
  accessibleLabel,
  question,
  confirmLabel,
  onConfirm,
  busy = false,
  disabled = false,
  tone = "danger",
}: {
  label: string;
  /** The first button's name when ``label`` alone is ambiguous ("Remove member mia@..."). */
  accessibleLabel?: string;
  question: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  disabled?: boolean;
  tone?: "danger" | "primary";
}) {
  const [asking, setAsking] = useState(false);
  // The first button of what is shown: Confirm while asking, the action again after.
  const box = useRef<HTMLSpanElement>(null);
  const wasAsking = useRef(false);

  useEffect(() => {
    if (asking || wasAsking.current) box.current?.querySelector<HTMLButtonElement>("button")?.focus();
    wasAsking.current = asking;
  }, [asking]);

  return (
    <span ref={box} className="contents">
      {asking ? (
        <Question
          label={accessibleLabel ?? label}
          question={question}
          confirmLabel={confirmLabel}
          tone={tone}
          onAnswer={(yes) => {
            setAsking(false);
            if (yes) onConfirm();
          }}
        />
      ) : (
        <Button
          tone={tone === "danger" ? "secondary" : "primary"}
          aria-label={accessibleLabel}
          disabled={disabled || busy}
          busy={busy}
          onClick={() => setAsking(true)}
        >
          {label}
        </Button>
      )}
    </span>
  );
}

function Question({
  label,
  question,
  confirmLabel,
  tone,
  onAnswer,
}: {
  label: string;
  question: ReactNode;
  confirmLabel: string;
  tone: "danger" | "primary";
  onAnswer: (yes: boolean) => void;
}) {
  return (
    <span
      role="group"
      aria-label={label}
      className="inline-flex flex-wrap items-center gap-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-950 ring-1 ring-amber-200"
      onKeyDown={(event) => {
        if (event.key === "Escape") onAnswer(false);
      }}
    >
      <span>{question}</span>
      <Button tone={tone} onClick={() => onAnswer(true)}>
        {confirmLabel}
      </Button>
      <Button tone="ghost" onClick={() => onAnswer(false)}>
        Cancel
      </Button>
    </span>
  );
}
